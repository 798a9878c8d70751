/**
 * A connection's last input, the same for every protocol: its socket has
 * closed, so it is closed for good and every subscription it held ends.
 *
 * @module
 */

import type { Effect, Step } from "./effects.ts";
import type { ConnectionState } from "./state.ts";

/**
 * The socket has closed (either side).
 *
 * @example
 * ```ts
 * import { onClosed } from "./closed.ts";
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
 * onClosed(state).state.closed; // true
 * ```
 */
export function onClosed<S extends ConnectionState>(state: S): Step<S> {
  return {
    state: { ...state, closed: true, subscriptions: new Map() },
    effects: Array.from(
      state.subscriptions.values(),
      (subscription): Effect => ({ kind: "unsubscribe", subscription }),
    ),
  };
}
