/**
 * The state of one WebRocket connection: the native connection's, plus its
 * app's users (to authenticate against) and the requests under way.
 *
 * @module
 */

import type { AppUser } from "../../config_file.ts";
import { type ConnectionState, initialState, type Limits } from "../state.ts";

/** What a request under way answers with when its effects come back. */
export type PendingRequest =
  /** A `subscribe`: answered `subscribed` with its channel. */
  | { readonly kind: "subscribe"; readonly channel: string }
  /** A `broadcast`: answered `broadcasted` with its channel. */
  | { readonly kind: "broadcast"; readonly channel: string }
  /** A `trigger`: answered `triggered` with its event. */
  | { readonly kind: "trigger"; readonly event: string };

/** The state of one connection. Replaced on every step, never mutated. */
export interface WebRocketState extends ConnectionState {
  /** The app's users by name (one map for every connection of the app). */
  readonly users: ReadonlyMap<string, AppUser>;
  /** Requests waiting for their effects, by the number their effects carry. */
  readonly pending: ReadonlyMap<number, PendingRequest>;
  /** Requests numbered so far. */
  readonly requestsOpened: number;
}

/**
 * A connection that has just opened: nobody is authenticated yet.
 *
 * @example
 * ```ts
 * import { DEFAULT_CHANNEL_POLICY, Namespaces } from "../namespaces.ts";
 * import { webRocketState } from "./state.ts";
 *
 * const state = webRocketState("c1", {
 *   maxSubscriptions: 128,
 *   maxMessageBytes: 65536,
 *   rateLimit: 100,
 *   outboundBufferBytes: 1 << 20,
 *   presenceMaxMembers: 1000,
 *   namespaces: new Namespaces(DEFAULT_CHANNEL_POLICY),
 * }, new Map([["joe", { name: "joe", secret: "53cr37", permissions: ["READ"] }]]));
 * ```
 */
export function webRocketState(
  connectionId: string,
  limits: Limits,
  users: ReadonlyMap<string, AppUser>,
): WebRocketState {
  return {
    ...initialState({ connectionId, limits }),
    users,
    pending: new Map(),
    requestsOpened: 0,
  };
}
