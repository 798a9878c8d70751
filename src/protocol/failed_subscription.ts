/**
 * A subscription that could not start (the engine failed, or the channel
 * is full), the same for every protocol: the hub lets go of it, and, if it
 * is still the connection's, it leaves the state and its request is told
 * why, in the protocol's words.
 *
 * @module
 */

import type { Effect, Step } from "./effects.ts";
import type { ConnectionState, Subscription } from "./state.ts";

/**
 * Ends `subscription`, which could not start. One already replaced or
 * ended (the client unsubscribed meanwhile) is only let go of; otherwise
 * `answer` gets the state without it and tells the client.
 *
 * @example
 * ```ts
 * import { endFailedSubscription } from "./failed_subscription.ts";
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
 * const subscription = { id: "c1.1", channel: "room1" };
 * endFailedSubscription(state, subscription, (without) => ({
 *   state: without,
 *   effects: [],
 * })).effects; // [{ kind: "unsubscribe", subscription }]
 * ```
 */
export function endFailedSubscription<S extends ConnectionState, E = never>(
  state: S,
  subscription: Subscription,
  answer: (without: S) => Step<S, E>,
): Step<S, E> {
  const unsubscribe: Effect = { kind: "unsubscribe", subscription };
  if (state.subscriptions.get(subscription.channel) !== subscription) {
    return { state, effects: [unsubscribe] };
  }
  const subscriptions = new Map(state.subscriptions);
  subscriptions.delete(subscription.channel);
  const answered = answer({ ...state, subscriptions });
  return { state: answered.state, effects: [unsubscribe, ...answered.effects] };
}
