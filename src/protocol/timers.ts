/**
 * What a connection's timers do, the same for every protocol: the
 * slow-consumer grace and drain checks (`outbound.ts`) and the token's
 * lifetime (`token_lifetime.ts`), worded by the protocol's `notices`.
 *
 * @module
 */

import type { Effect, Step, TimerName } from "./effects.ts";
import { onDrainCheckTimer, onSlowConsumerTimer } from "./outbound.ts";
import { CloseCode } from "./close_codes.ts";
import { type ConnectionState, DEFAULT_AUTH_TIMEOUT_MS } from "./state.ts";
import { onTokenTimer, type TokenNotices } from "./token_lifetime.ts";

/**
 * Timer `name` went off at `now`.
 *
 * @example
 * ```ts
 * import { DEFAULT_CHANNEL_POLICY, Namespaces } from "./namespaces.ts";
 * import { initialState } from "./state.ts";
 * import { onTimer } from "./timers.ts";
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
 * onTimer(state, "drainCheck", 0); // nothing lags: { state, effects: [] }
 * ```
 */
export function onTimer<S extends ConnectionState>(
  state: S,
  name: TimerName,
  now: number,
  notices?: TokenNotices,
): Step<S> {
  switch (name) {
    case "slowConsumer":
      return onSlowConsumerTimer(state);
    case "drainCheck":
      return onDrainCheckTimer(state);
    case "ping":
      // A protocol with a heartbeat handles it before asking here.
      return { state, effects: [] };
    case "authTimeout":
      // Authenticated since: nothing to do.
      if (state.auth !== null) return { state, effects: [] };
      return {
        state,
        effects: [
          { kind: "count", counter: "staleConnections" },
          {
            kind: "close",
            code: CloseCode.AuthTimeout,
            reason: "authentication timeout",
          },
        ],
      };
    default:
      return onTokenTimer(state, name, now, notices);
  }
}

/**
 * The timer of a socket that must authenticate in time: when it opens
 * unauthenticated (SPEC §12).
 */
export function authDeadline(state: ConnectionState, now: number): Effect {
  return {
    kind: "timer",
    name: "authTimeout",
    at: now + (state.limits.authTimeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS),
  };
}
