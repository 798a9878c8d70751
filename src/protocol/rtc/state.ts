/**
 * The state of one connection of the Real-time Communication Service
 * protocol: the native connection's (credentials, subscriptions, limits,
 * rate, backlog) and the requests waiting for the outcome of an effect.
 *
 * @module
 */

import type { ConnectionState, Limits } from "../state.ts";
import { initialState } from "../state.ts";
import type { Authentication } from "../authentication.ts";
import type { MessageId } from "./frames.ts";

/** A topic that could not be subscribed to, and why. */
export interface TopicFailure {
  /** As the client wrote it. */
  readonly topic: string;
  /** The numeric error code. */
  readonly code: number;
  /** Why. */
  readonly message: string;
}

/**
 * A request waiting for effects to come back, by the number the reducer gave
 * it (the effects' `requestId`); `id` is the client's message id, if any.
 */
export type PendingRequest =
  /** The personal channel's subscription: the welcome follows it. */
  | { readonly kind: "welcome" }
  /** A `Subscribe`, waiting for `waiting` more subscriptions to start. */
  | {
    readonly kind: "subscribe";
    readonly id: MessageId | undefined;
    readonly topics: readonly string[];
    readonly waiting: number;
    readonly failures: readonly TopicFailure[];
  }
  /** A `Broadcast`, waiting for the engine. */
  | { readonly kind: "broadcast"; readonly id: MessageId | undefined }
  /** A `DirectMessage`, waiting for the engine, then for the target's connections. */
  | {
    readonly kind: "direct";
    readonly id: MessageId | undefined;
    readonly target: string;
  }
  /** An `X-` message, waiting for the back-end. */
  | {
    readonly kind: "custom";
    readonly id: MessageId | undefined;
    readonly type: string;
  };

/** The state of one connection of this protocol. Replaced on every step, never mutated. */
export interface RtcState extends ConnectionState {
  /** Requests waiting for effects, by the number their effects carry. */
  readonly pending: ReadonlyMap<number, PendingRequest>;
  /** Requests numbered so far. */
  readonly requestsOpened: number;
}

/**
 * The state of a connection that has just opened, authenticated by its
 * upgrade request.
 *
 * @example
 * ```ts
 * import { DEFAULT_CHANNEL_POLICY, Namespaces } from "../namespaces.ts";
 * import { rtcState } from "./state.ts";
 *
 * const state = rtcState("c1", {
 *   maxSubscriptions: 128,
 *   maxMessageBytes: 65536,
 *   rateLimit: 100,
 *   outboundBufferBytes: 1 << 20,
 *   presenceMaxMembers: 1000,
 *   namespaces: new Namespaces(DEFAULT_CHANNEL_POLICY),
 * }, {
 *   subject: "alice",
 *   channels: new Set(["chat:general"]),
 *   grants: [],
 *   scopes: new Set(["subscribe"]),
 *   expiresAt: Date.now() + 3_600_000,
 * });
 * ```
 */
export function rtcState(
  connectionId: string,
  limits: Limits,
  auth: Authentication,
): RtcState {
  return {
    ...initialState({ connectionId, limits, auth }),
    pending: new Map(),
    requestsOpened: 0,
  };
}
