/**
 * The client SDK's public types: options, subscriptions, messages.
 *
 * @module
 */

import type { BroadcastParams } from "../protocol/frames.ts";
import type { Phase } from "./events.ts";

/** A message as the server broadcasts it; `seq` restarts at 1 when the client resubscribes. */
export type BroadcastMessage = BroadcastParams;

/** Where the client stands. */
export type ConnectionState = Phase;

/** Options of {@linkcode BroadcasterClient}. */
export interface BroadcasterClientOptions {
  /** The socket URL, e.g. `wss://example.com/broadcaster/websocket`. */
  readonly url: string;
  /** A fresh token; called on every connect and when the server warns of expiry. */
  readonly token: () => string | Promise<string>;
  /** How long a request may wait for its answer (10 s). */
  readonly requestTimeoutMs?: number;
  /** First reconnect delay ceiling (500 ms); doubles per failed attempt. */
  readonly initialBackoffMs?: number;
  /** Largest reconnect delay ceiling (30 s). */
  readonly maxBackoffMs?: number;
  /** The shortest reconnect delay (100 ms): jitter never goes below it. */
  readonly minBackoffMs?: number;
  /** Called whenever the connection state changes. */
  readonly onStateChange?: (state: ConnectionState) => void;
  /** Called with errors the application should know of (refused auth, fatal close). */
  readonly onError?: (error: Error) => void;
  /** Called with every notification a back-end sends (`POST /notify`, SPEC §9). */
  readonly onNotification?: (notification: Notification) => void;
}

/** A notification from a back-end: not stored, not tied to a channel. */
export interface Notification {
  /** The back-end's event name. */
  readonly event: string;
  /** Its payload, any JSON value. */
  readonly payload: unknown;
  /** When it was sent, RFC 3339 in UTC. */
  readonly createTime: string;
}

/** Options of one subscription. */
export interface SubscribeOptions {
  /**
   * Called when missed messages cannot be recovered (the server no longer
   * has them): reload the state this channel feeds, then carry on.
   */
  readonly onReset?: () => void;
  /** Called when a user's first connection joins the channel (subscribes with `joinLeave`). */
  readonly onJoin?: (event: JoinEvent) => void;
  /** Called when a user's last connection has left for good (subscribes with `joinLeave`). */
  readonly onLeave?: (event: LeaveEvent) => void;
  /** Called with batched counts, at most every 100 ms by default (subscribes with `occupancy`). */
  readonly onOccupancy?: (event: OccupancyEvent) => void;
}

/** A user joined a channel: their first connection subscribed. */
export interface JoinEvent {
  /** The channel. */
  readonly channel: string;
  /** The user (the token's `sub`). */
  readonly user: string;
  /** The token's `info`, if it has one. */
  readonly info?: Readonly<Record<string, unknown>>;
}

/** A user left a channel: their last connection has been gone for the leave delay. */
export interface LeaveEvent {
  /** The channel. */
  readonly channel: string;
  /** The user (the token's `sub`). */
  readonly user: string;
}

/** A channel's counts changed. */
export interface OccupancyEvent extends PresenceStats {
  /** The channel. */
  readonly channel: string;
  /** The most connections since the channel became occupied. */
  readonly peak: number;
  /** `connections` less that of the previous update (the first: all of them). */
  readonly change: number;
}

/** How many are in a channel. */
export interface PresenceStats {
  /** Subscriptions (one per connection). */
  readonly connections: number;
  /** Distinct users. */
  readonly users: number;
}

/** One member of a channel. */
export interface PresenceMember {
  /** The user (the token's `sub`). */
  readonly user: string;
  /** The connection holding the subscription. */
  readonly connectionId: string;
  /** The token's `info`, if it has one. */
  readonly info?: Readonly<Record<string, unknown>>;
}

/** Who is in a channel: its counts and members (at most the server's cap). */
export interface Presence extends PresenceStats {
  /** The members. */
  readonly members: readonly PresenceMember[];
  /** True when the server listed fewer members than there are. */
  readonly truncated: boolean;
}

/** A subscription; `unsubscribe()` ends it. */
export interface Subscription {
  /** The channel subscribed to. */
  readonly channel: string;
  /**
   * Resolves when the server first confirms the subscription (messages
   * published from then on arrive); rejects with the server's
   * {@linkcode BroadcasterError} if it refuses.
   */
  readonly ready: Promise<void>;
  /** Ends the subscription; harmless when it already ended. */
  unsubscribe(): void;
  /** Who is in the channel now. */
  presence(): Promise<Presence>;
  /** How many are in the channel now. */
  presenceStats(): Promise<PresenceStats>;
}
