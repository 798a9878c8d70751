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
}

/** Options of one subscription. */
export interface SubscribeOptions {
  /**
   * Called when missed messages cannot be recovered (the server no longer
   * has them): reload the state this channel feeds, then carry on.
   */
  readonly onReset?: () => void;
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
}
