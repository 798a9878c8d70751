/**
 * What goes into the reducer and what comes out: inputs and effects as data.
 *
 * The reducer never performs I/O. It asks the connection shell to verify a
 * token, register a subscription or publish, and the shell feeds back what
 * came of the asynchronous ones as new inputs.
 *
 * @module
 */

import type { NewMessage } from "./message.ts";
import type { ServerFrame } from "./frames.ts";
import type { Subscription } from "./state.ts";

/** What the JWT verifier made of a token: its claims, or why it was refused. */
export type TokenOutcome =
  | { readonly ok: true; readonly claims: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly reason: string };

/** The timers a connection may have running, one of each at most. */
export type TimerName = "tokenExpiring" | "tokenExpired";

/** Something that happened to a connection, for the reducer to decide on. */
export type Input =
  /** The socket opened (with credentials already, when `?token=` was given). */
  | { readonly kind: "opened" }
  /** A text frame from the client. */
  | { readonly kind: "frame"; readonly text: string }
  /** A timer set by a `timer` effect went off. */
  | { readonly kind: "timer"; readonly name: TimerName }
  /** The outcome of a `verifyToken` effect. */
  | {
    readonly kind: "tokenVerified";
    readonly requestId: number | undefined;
    readonly outcome: TokenOutcome;
  };

/** What the shell must do after a step. */
export type Effect =
  /** Send one frame to this client. */
  | { readonly kind: "reply"; readonly frame: ServerFrame }
  /** Verify a JWT, then feed a `tokenVerified` input back. */
  | {
    readonly kind: "verifyToken";
    readonly token: string;
    readonly requestId: number | undefined;
  }
  /**
   * Register a subscription with the hub, then answer `requestId` (if any).
   * With `since`, recover: replay what came after it, before anything live.
   */
  | {
    readonly kind: "subscribe";
    readonly subscription: Subscription;
    readonly requestId: number | undefined;
    /** The `timestamp` of the result, chosen by the reducer. */
    readonly timestamp: string;
    readonly since?: string;
  }
  /** Answer `requestId` with the channel's last `limit` messages. */
  | {
    readonly kind: "history";
    readonly channel: string;
    readonly limit: number;
    readonly requestId: number;
  }
  /** (Re)start the timer `name` to fire at `at` (epoch ms), replacing one of that name. */
  | { readonly kind: "timer"; readonly name: TimerName; readonly at: number }
  /** Remove a subscription from the hub. */
  | { readonly kind: "unsubscribe"; readonly subscription: Subscription }
  /** Hand a message to the engine, then answer `requestId` (if any) with its id. */
  | {
    readonly kind: "publish";
    readonly message: NewMessage;
    readonly requestId: number | undefined;
  }
  /** Close the socket. */
  | { readonly kind: "close"; readonly code: number; readonly reason: string }
  /** Count an event the operator should see in metrics. */
  | { readonly kind: "count"; readonly counter: "rateLimited" };

/** The reducer's answer: the next state and the effects to run, in order. */
export interface Step<S> {
  readonly state: S;
  readonly effects: readonly Effect[];
}
