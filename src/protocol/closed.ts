/**
 * How a connection ends, the same for every protocol: its last input (its
 * socket has closed, so it is closed for good and every subscription it
 * held ends), and the close of a frame over `MAX_MESSAGE_BYTES`.
 *
 * @module
 */

import { CloseCode } from "./close_codes.ts";
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

/** A text or binary frame over `MAX_MESSAGE_BYTES`: close 1009, state unchanged. */
export function onOversizedFrame<S extends ConnectionState>(state: S): Step<S> {
  return {
    state,
    effects: [{
      kind: "close",
      code: CloseCode.MessageTooBig,
      reason: `frame over ${state.limits.maxMessageBytes} bytes`,
    }],
  };
}
