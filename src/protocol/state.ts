/**
 * The state of one connection, as the reducer sees it. Replaced on every step,
 * never mutated.
 *
 * @module
 */

import type { Member } from "./presence.ts";
import type { Authentication } from "./authentication.ts";
import type { Namespaces } from "./namespaces.ts";
import { FULL_BUCKET, type RateState } from "./rate_limit.ts";

/** Per-connection limits the reducer enforces; one object shared by every connection. */
export interface Limits {
  /** Most subscriptions one connection may hold (`MAX_SUBSCRIPTIONS`). */
  readonly maxSubscriptions: number;
  /** Largest text frame, and largest publish payload, in UTF-8 bytes (`MAX_MESSAGE_BYTES`). */
  readonly maxMessageBytes: number;
  /** Requests per second (`RATE_LIMIT`); bursts up to twice that. */
  readonly rateLimit: number;
  /** Unsent bytes past which broadcasts are dropped (`OUTBOUND_BUFFER_BYTES`). */
  readonly outboundBufferBytes: number;
  /** The most members a `presence` answer lists (`PRESENCE_MAX_MEMBERS`). */
  readonly presenceMaxMembers: number;
  /**
   * What each channel may do, by namespace (SPEC §10), the server's
   * defaults elsewhere: history (`HISTORY_SIZE`: the most `history`
   * returns), presence (`PRESENCE`), join/leave, client publishing,
   * subscribers.
   */
  readonly namespaces: Namespaces;
  /** Whether `trigger` has a back-end to call (a `triggerUrl`, SPEC §10). */
  readonly trigger?: boolean;
  /**
   * How long a socket may stay unauthenticated before it is closed with
   * 4008 (`AUTH_TIMEOUT_SECONDS`, SPEC §12); {@linkcode DEFAULT_AUTH_TIMEOUT_MS} without it.
   */
  readonly authTimeoutMs?: number;
}

/** `AUTH_TIMEOUT_SECONDS`' default, 10 s (SPEC §12). */
export const DEFAULT_AUTH_TIMEOUT_MS = 10_000;

/** One subscription of this connection to one channel. */
export interface Subscription {
  /** Unique per subscription: the connection id and a per-connection counter. */
  readonly id: string;
  /** The channel subscribed to, or the pattern (`updates:*`) when `pattern`. */
  readonly channel: string;
  /** A pattern subscription: every matching channel's broadcasts, one `seq` (SPEC §9). */
  readonly pattern?: true;
  /** Whether it is sent `join` and `leave` (SPEC §8). */
  readonly joinLeave?: boolean;
  /** Whether it is sent `occupancy` updates (SPEC §8). */
  readonly occupancy?: boolean;
  /** Its presence membership; absent when presence is off. */
  readonly member?: Member;
}

/** The state of one connection. Replaced on every step, never mutated. */
export interface ConnectionState {
  /** Unique per connection; prefixes subscription ids. */
  readonly connectionId: string;
  /** The limits it is held to. */
  readonly limits: Limits;
  /** Its credentials, once authenticated. */
  readonly auth: Authentication | null;
  /** Subscriptions by channel name: the one record of what this connection holds. */
  readonly subscriptions: ReadonlyMap<string, Subscription>;
  /** How many subscriptions this connection has ever opened; numbers the next one. */
  readonly subscriptionsOpened: number;
  /** The request budget. */
  readonly rate: RateState;
  /** Since when (epoch ms) the socket's backlog is over `outboundBufferBytes`; `null` while it is not. */
  readonly overSince: number | null;
  /**
   * A subscription had broadcasts dropped and waits for the backlog to
   * drain, to be sent them from history (SPEC §7).
   */
  readonly lagging: boolean;
  /** Once closed, nothing more happens. */
  readonly closed: boolean;
}

/** Options of {@linkcode initialState}. */
export interface InitialStateOptions {
  /** Unique per connection; prefixes subscription ids. */
  readonly connectionId: string;
  /** The limits it is held to. */
  readonly limits: Limits;
  /** Credentials from a `?token=` on the upgrade URL, if any. */
  readonly auth?: Authentication | null;
}

/**
 * The state of a connection that has just opened.
 *
 * @example
 * ```ts
 * import { DEFAULT_CHANNEL_POLICY, Namespaces } from "./namespaces.ts";
 * import { initialState } from "./state.ts";
 *
 * const state = initialState({
 *   connectionId: "c1",
 *   limits: {
 *     maxSubscriptions: 128,
 *     maxMessageBytes: 65536,
 *     rateLimit: 100,
 *     outboundBufferBytes: 1 << 20,
 *     presenceMaxMembers: 1000,
 *     namespaces: new Namespaces(DEFAULT_CHANNEL_POLICY),
 *   },
 * });
 * ```
 */
export function initialState(options: InitialStateOptions): ConnectionState {
  return {
    connectionId: options.connectionId,
    limits: options.limits,
    auth: options.auth ?? null,
    subscriptions: new Map(),
    subscriptionsOpened: 0,
    rate: FULL_BUCKET,
    overSince: null,
    lagging: false,
    closed: false,
  };
}
