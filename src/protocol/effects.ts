/**
 * What goes into the reducer and what comes out: inputs and effects as data.
 *
 * The reducer never performs I/O. It asks the connection shell to verify a
 * token, register a subscription, publish, read history or measure the
 * socket's backlog, and the shell feeds back what came of each as a new
 * input (as Elm's `Cmd msg` does). So the reducer decides every frame a
 * client receives, including the answers to asynchronous work.
 *
 * @module
 */

import type { EngineFailure, EngineOperation } from "./engine_failure.ts";
import type { Message, NewMessage } from "./message.ts";
import type { PresenceCounts, PresenceSnapshot } from "./presence.ts";
import type { ServerFrame } from "./frames.ts";
import type { Framing } from "./notices.ts";
import type {
  StreamPosition,
  StreamRead,
  SubscriptionStart,
} from "./position.ts";
import type { Subscription } from "./state.ts";

/** What the JWT verifier made of a token: its claims, or why it was refused. */
export type TokenOutcome =
  | { readonly ok: true; readonly claims: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly reason: string };

/** The timers a connection may have running, one of each at most. */
export type TimerName =
  | "tokenExpiring"
  | "tokenExpired"
  | "slowConsumer"
  | "drainCheck"
  /** A protocol's own heartbeat (Nova's server `ping`); the others never set it. */
  | "ping"
  /** A socket that must authenticate in time (SPEC §12). */
  | "authTimeout";

/** Something that happened to a connection, for the reducer to decide on. */
export type Input =
  /** The socket opened (with credentials already, when `?token=` was given). */
  | { readonly kind: "opened" }
  /** A text frame from the client. */
  | { readonly kind: "frame"; readonly text: string }
  /** A text frame over `MAX_MESSAGE_BYTES`: the shell does not keep its text. */
  | { readonly kind: "oversizedFrame" }
  /** A binary frame from the client (the native protocol is text-only). */
  | { readonly kind: "binaryFrame"; readonly bytes: Uint8Array }
  /** A timer set by a `timer` effect went off. */
  | { readonly kind: "timer"; readonly name: TimerName }
  /** The outcome of a `verifyToken` effect. */
  | {
    readonly kind: "tokenVerified";
    readonly requestId: number | undefined;
    readonly outcome: TokenOutcome;
    /** Its user already has `MAX_CONNECTIONS_PER_USER` sockets on this node (SPEC §12). */
    readonly overUserLimit?: true;
  }
  /**
   * The outcome of a `subscribe` effect: the hub holds the subscription, the
   * engine delivers its channel here, and `read` says where its stream
   * stands and, when recovering, what came after `since`.
   */
  | {
    readonly kind: "subscribed";
    readonly subscription: Subscription;
    readonly requestId: number | undefined;
    readonly recover: boolean;
    readonly since: StreamPosition | null;
    /** `null` for a pattern: it has no stream of its own. */
    readonly read: StreamRead | null;
  }
  /** The engine could not say where the stream stands: the subscribe fails. */
  | {
    readonly kind: "subscribeFailed";
    readonly subscription: Subscription;
    readonly requestId: number | undefined;
    readonly failure: EngineFailure;
  }
  /** The channel already has its namespace's `maxSubscribers` (SPEC §10): the subscribe fails. */
  | {
    readonly kind: "channelFull";
    readonly subscription: Subscription;
    readonly requestId: number | undefined;
    readonly limit: number;
  }
  /** A subscription had a broadcast dropped: it waits to catch up from history. */
  | { readonly kind: "lagging" }
  /** The engine accepted a `publish` effect's message. */
  | {
    readonly kind: "published";
    readonly requestId: number | undefined;
    readonly message: Message;
    /** The connections subscribed to its channel, when the effect asked for its `audience`. */
    readonly recipients?: number;
  }
  /** The engine failed a `publish`, `history` or `presence` effect (unavailable, or another failure). */
  | {
    readonly kind: "engineFailed";
    readonly operation: EngineOperation;
    readonly requestId: number | undefined;
    readonly failure: EngineFailure;
  }
  /** The back-end answered a `trigger` effect (2xx, JSON). */
  | {
    readonly kind: "triggered";
    readonly requestId: number | undefined;
    readonly event: string;
    readonly responseJson: string;
  }
  /** The back-end failed a `trigger` effect: an error status, garbage, or no answer in 5 s. */
  | {
    readonly kind: "triggerFailed";
    readonly requestId: number | undefined;
    readonly reason: string;
  }
  /** The presence store answered a `presence` effect. */
  | {
    readonly kind: "presenceRead";
    readonly requestId: number;
    readonly presence: PresenceSnapshot | PresenceCounts;
  }
  /** The engine answered a `history` effect. */
  | {
    readonly kind: "historyRead";
    readonly requestId: number;
    readonly messages: readonly Message[];
  }
  /**
   * The socket's unsent bytes: measured when the shell's outbound meter
   * crossed `OUTBOUND_BUFFER_BYTES` (either way), or by `measureBacklog`.
   */
  | { readonly kind: "backlog"; readonly bytes: number }
  /** The socket has closed (either side): the connection's last input. */
  | { readonly kind: "closed" };

/** What the shell must do after a step. */
export type Effect =
  /** Send one frame to this client. */
  | { readonly kind: "reply"; readonly frame: ServerFrame }
  /** Send one frame, as text already (a dialect's frame, see `src/protocol/rtc/`). */
  | { readonly kind: "send"; readonly text: string }
  /** Verify a JWT, then feed `tokenVerified` back. */
  | {
    readonly kind: "verifyToken";
    readonly token: string;
    readonly requestId: number | undefined;
  }
  /**
   * Register a subscription with the hub, holding live messages back, wait
   * until the engine delivers its channel here, and read where its stream
   * stands and (at most `limit` of) what came after `since`; then feed
   * `subscribed` or `subscribeFailed` back. `recover`: the client gave a
   * `since` (which may not be a position at all: then `since` is `null`).
   */
  | {
    readonly kind: "subscribe";
    readonly subscription: Subscription;
    readonly requestId: number | undefined;
    readonly recover: boolean;
    readonly since: StreamPosition | null;
    readonly limit: number;
    /** The most subscriptions its channel may have (its namespace's; 0: no limit). */
    readonly maxSubscribers: number;
    /** Read the channel's latest kept messages too (`StreamRead.latest`). */
    readonly latest?: true;
  }
  /** Deliver the replay, then release the live messages held back for the subscription. */
  | {
    readonly kind: "activate";
    readonly subscription: Subscription;
    readonly start: SubscriptionStart;
  }
  /**
   * Read history for each lagging subscription among `subscriptions`, at
   * most `limit` messages each, and hand it to the hub (which lags them
   * again, and reports `lagging`, if the client is still not reading).
   */
  | {
    readonly kind: "catchUp";
    readonly subscriptions: readonly Subscription[];
    readonly limit: number;
  }
  /** Remove a subscription from the hub. */
  | { readonly kind: "unsubscribe"; readonly subscription: Subscription }
  /**
   * Hand a message to the engine, then feed `published` or `engineFailed`
   * back; with `audience`, `published` says how many connections are
   * subscribed to the channel.
   */
  | {
    readonly kind: "publish";
    readonly message: NewMessage;
    readonly requestId: number | undefined;
    readonly audience?: true;
  }
  /** Read the channel's last `limit` messages, then feed `historyRead` or `engineFailed` back. */
  | {
    readonly kind: "history";
    readonly channel: string;
    readonly limit: number;
    readonly requestId: number;
  }
  /**
   * Read the channel's presence (at most `max` members) or, with `stats`,
   * only its counts; then feed `presenceRead` or `engineFailed` back.
   */
  | {
    readonly kind: "presence";
    readonly channel: string;
    readonly requestId: number;
    readonly stats: boolean;
    readonly max: number;
  }
  /** POST `trigger`'s event to the back-end, then feed `triggered` or `triggerFailed` back. */
  | {
    readonly kind: "trigger";
    readonly event: string;
    readonly dataJson: string;
    readonly requestId: number | undefined;
  }
  /** (Re)start the timer `name` to fire at `at` (epoch ms; `Infinity` stops it). */
  | { readonly kind: "timer"; readonly name: TimerName; readonly at: number }
  /** Read the socket's unsent bytes now, then feed `backlog` back. */
  | { readonly kind: "measureBacklog" }
  /** Close the socket. */
  | { readonly kind: "close"; readonly code: number; readonly reason: string }
  /** Count an event the operator should see in metrics. */
  | {
    readonly kind: "count";
    readonly counter:
      | "rateLimited"
      | "slowConsumerDisconnects"
      | "staleConnections";
  };

/** The effect of kind `K`, e.g. `EffectOf<"publish">`. */
export type EffectOf<K extends Effect["kind"]> = Extract<Effect, { kind: K }>;

/** Something with a `kind`: a protocol's own effect or input. */
export interface Kinded {
  /** What it is. */
  readonly kind: string;
}

/** The connection a protocol's own effect runs for. */
export interface ProtocolConnection {
  /** The connection id. */
  readonly id: string;
  /** The authenticated user, or `null`. */
  readonly user: string | null;
}

/**
 * A wire protocol as the connection shell runs it: its reducer over its
 * own state, and how it frames what is fanned out (`undefined`: the native
 * protocol's frames, built by the hub). A dialect may ask for effects of
 * its own (`E`, carried out by `perform`), whose outcomes come back as
 * inputs of its own (`I`): adding a dialect adds a folder, not cases in the
 * others.
 */
export interface Protocol<
  S,
  E extends Kinded = never,
  I extends Kinded = never,
> {
  /** For the logs: `native`, `rtc`, ... */
  readonly name: string;
  /** Decides what one input does to a connection: pure. */
  readonly reduce: (state: S, input: Input | I, now: number) => Step<S, E>;
  /** How broadcasts and notices look to its clients. */
  readonly framing: Framing | undefined;
  /**
   * Carries out the protocol's own effects; an asynchronous one resolves to
   * its outcome (an input of the protocol's own, or of the core's).
   */
  readonly perform?: (
    effect: E,
    connection: ProtocolConnection,
  ) => Input | I | undefined | Promise<Input | I | undefined>;
  /**
   * A backlog of broadcasts counted in messages, for a protocol whose
   * document says so: while the socket is behind, broadcasts wait in it,
   * the oldest dropped past `messages`; `overflowed` is the input that
   * reports the first drop since the backlog last drained. Without it, the core's policy holds (SPEC §3, §7: drop, lag,
   * catch up from history).
   */
  readonly backlog?: {
    readonly messages: number;
    readonly overflowed: () => I;
  };
  /** Whether a broadcast frame ends the connection (closed 1000 once sent). */
  readonly ends?: (frame: string) => boolean;
}

/** The reducer's answer: the next state and the effects to run, in order. */
export interface Step<S, E = never> {
  /** The next state. */
  readonly state: S;
  /** The effects to run, in order. */
  readonly effects: readonly (Effect | E)[];
}
