/**
 * The client core's vocabulary: its state, the events it decides on and the
 * commands it gives the shell.
 *
 * @module
 */

import type { BroadcastParams } from "../protocol/frames.ts";
import type { PresenceNotice } from "./frames.ts";

/** Where the client stands. */
export type Phase = "connecting" | "connected" | "disconnected" | "closed";

/** What the client knows of one channel the application subscribed to. */
export interface ChannelRecord {
  /** Tells this subscription from an earlier one of the same channel. */
  readonly generation: number;
  /**
   * Where to recover from after a reconnect: the id of the last message
   * delivered to the application, or the position the server gave when it
   * confirmed the subscription (a message's id is a position too).
   */
  readonly since: string | undefined;
  /** The `seq` of the last message seen on the current server subscription. */
  readonly lastSeq: number;
  /** True while subscribed on the current connection and in step. */
  readonly live: boolean;
  /** Whether the server has ever confirmed it: only then can messages have been missed. */
  readonly confirmed: boolean;
  /** Subscribes in a row the server could not serve (`Internal`): the retry's backoff exponent. */
  readonly retries: number;
  /** What it asks the server for besides messages: `join`/`leave`, `occupancy`. */
  readonly wishes: PresenceWishes;
}

/** Presence notifications a subscription asks for. */
export interface PresenceWishes {
  /** `join` and `leave`. */
  readonly joinLeave: boolean;
  /** `occupancy`. */
  readonly occupancy: boolean;
}

/** The client's state. Replaced on every step, never mutated. */
export interface ClientState {
  /** Where the client stands. */
  readonly phase: Phase;
  /** Reconnect attempts since the last successful `auth`: the backoff's exponent. */
  readonly attempt: number;
  /**
   * The attempts the last successful `auth` reset: a connection the server
   * ends as a slow consumer (1013) resumes from there, not from zero.
   */
  readonly attemptBeforeAuth: number;
  /** Every channel the application subscribed to, by name. */
  readonly channels: ReadonlyMap<string, ChannelRecord>;
}

/** The backoff settings (the client's options, with their defaults applied). */
export interface BackoffOptions {
  /** First reconnect delay ceiling; doubles per failed attempt. */
  readonly initialBackoffMs: number;
  /** Largest reconnect delay ceiling. */
  readonly maxBackoffMs: number;
  /** The shortest reconnect delay: full jitter never drops below it. */
  readonly minBackoffMs: number;
}

/** Something that happened, for the core to decide on. */
export type ClientEvent =
  /** The socket opened: authenticate. */
  | { readonly kind: "opened" }
  /** The server accepted the token. */
  | { readonly kind: "authenticated" }
  /** The token was refused, or could not be had (the shell reports why). */
  | { readonly kind: "authFailed" }
  /** The application subscribed; the shell numbers its subscriptions. */
  | {
    readonly kind: "subscribeAsked";
    readonly channel: string;
    readonly generation: number;
    readonly wishes?: PresenceWishes;
  }
  /** A presence notification arrived. */
  | { readonly kind: "presence"; readonly notice: PresenceNotice }
  /** The server warned that the token expires soon: refresh it in place. */
  | { readonly kind: "tokenExpiring" }
  /** The application ended a subscription. */
  | {
    readonly kind: "unsubscribeAsked";
    readonly channel: string;
    readonly generation: number;
  }
  /** The server confirmed a subscribe; `recovered` and `position` as it answered. */
  | {
    readonly kind: "subscribed";
    readonly channel: string;
    readonly generation: number;
    readonly recovered: boolean | undefined;
    readonly position: string | undefined;
  }
  /**
   * The server refused a subscribe: for good, or (`Internal`: its engine is
   * unavailable) until a retry; `jitter` in [0, 1) spreads the retries.
   */
  | {
    readonly kind: "subscribeRefused";
    readonly channel: string;
    readonly generation: number;
    readonly code: string;
    readonly message: string;
    readonly jitter: number;
  }
  /** The retry of a subscribe the server could not serve is due. */
  | {
    readonly kind: "subscribeRetryDue";
    readonly channel: string;
    readonly generation: number;
  }
  /** A broadcast arrived. */
  | { readonly kind: "broadcast"; readonly message: BroadcastParams }
  /** The server ended a subscription the token no longer allows. */
  | { readonly kind: "unsubscribed"; readonly channel: string }
  /** The socket closed; `jitter` is a random number in [0, 1) for the backoff. */
  | {
    readonly kind: "closed";
    readonly code: number;
    readonly jitter: number;
    /** The close frame's reason, when the server gave one. */
    readonly reason?: string;
  }
  /** The reconnect timer went off. */
  | { readonly kind: "reconnectDue" }
  /** A socket could not even be created (e.g. a malformed URL): stop. */
  | { readonly kind: "connectFailed" }
  /** The application closed the client. */
  | { readonly kind: "closeAsked" };

/** What the shell must do. */
export type ClientCommand =
  /** Open a new socket. */
  | { readonly kind: "connect" }
  /** Ask `token()` and send `auth`; report `authenticated` or `authFailed`. */
  | { readonly kind: "authenticate" }
  /**
   * Subscribe (after unsubscribing, when recovering from a gap), with `since`
   * when given; report `subscribed` or `subscribeRefused`.
   */
  | {
    readonly kind: "subscribe";
    readonly channel: string;
    readonly generation: number;
    readonly since: string | undefined;
    readonly unsubscribeFirst: boolean;
    readonly wishes: PresenceWishes;
  }
  /** Tell the server a subscription ended. */
  | { readonly kind: "unsubscribe"; readonly channel: string }
  /** Report `subscribeRetryDue` after `delayMs` (unless the timers stop first). */
  | {
    readonly kind: "retrySubscribe";
    readonly channel: string;
    readonly generation: number;
    readonly delayMs: number;
  }
  /** Hand a presence notification to the application. */
  | { readonly kind: "presence"; readonly notice: PresenceNotice }
  /** Hand a message to the application. */
  | { readonly kind: "deliver"; readonly message: BroadcastParams }
  /** Tell the application that missed messages cannot be recovered. */
  | { readonly kind: "reset"; readonly channel: string }
  /** Settle a subscription's `ready`: resolved, or rejected with the server's error. */
  | {
    readonly kind: "ready";
    readonly channel: string;
    readonly generation: number;
    readonly error?: { readonly code: string; readonly message: string };
  }
  /** The server ended a subscription (`PermissionDenied`): tell the application. */
  | { readonly kind: "ended"; readonly channel: string }
  /** The phase changed. */
  | { readonly kind: "phase"; readonly phase: Phase }
  /** Start the reconnect timer (and with 0, reconnect at once). */
  | { readonly kind: "reconnectIn"; readonly delayMs: number }
  /** Stop the reconnect timer and every subscribe retry. */
  | { readonly kind: "stopTimers" }
  /** Close the socket. */
  | { readonly kind: "closeSocket"; readonly code: number }
  /** Stop for good: the server closed with a code that retrying cannot help. */
  | { readonly kind: "fatal"; readonly code: number; readonly why: string };

/** The core's answer. */
export interface ClientStep {
  /** The next state. */
  readonly state: ClientState;
  /** What the shell must do, in order. */
  readonly commands: readonly ClientCommand[];
}

/** A client that has just started connecting. */
export const INITIAL_STATE: ClientState = {
  phase: "connecting",
  attempt: 0,
  attemptBeforeAuth: 0,
  channels: new Map(),
};
