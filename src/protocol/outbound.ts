/**
 * The slow-consumer policy, decided in the reducer from backlog readings.
 *
 * Deno has no drain event and no cap on a socket's buffer, so a client that
 * stops reading would make the server buffer without bound. The shell's
 * outbound meter drops broadcasts while the socket's unsent bytes are over
 * `OUTBOUND_BUFFER_BYTES` (their `seq` is counted, so the client sees the
 * gap) and reports each crossing of that limit as a `backlog` input. Here it
 * is decided what follows: over four times the limit, close 1013 at once;
 * still over after a grace period, close 1013; back under, all is forgiven.
 *
 * @module
 */

import { CloseCode } from "./close_codes.ts";
import { type ConnectionStep, unchanged } from "./replies.ts";
import type { ConnectionState } from "./state.ts";

/** How long a connection may stay over the limit before it is closed. */
export const SLOW_CONSUMER_GRACE_MS = 10_000;

/** How far over the limit a connection is closed at once. */
export const HARD_LIMIT_FACTOR = 4;

/** The socket has `bytes` unsent, measured at `now`. */
export function onBacklog(
  state: ConnectionState,
  bytes: number,
  now: number,
): ConnectionStep {
  const limit = state.limits.outboundBufferBytes;
  if (bytes > limit * HARD_LIMIT_FACTOR) {
    return closeSlow(
      state,
      `slow consumer: over ${limit * HARD_LIMIT_FACTOR} bytes unsent`,
    );
  }
  if (bytes <= limit) {
    if (state.overSince === null) return unchanged(state);
    return {
      state: { ...state, overSince: null },
      effects: [{
        kind: "timer",
        name: "slowConsumer",
        at: Number.POSITIVE_INFINITY,
      }],
    };
  }
  if (state.overSince === null) {
    return {
      state: { ...state, overSince: now },
      effects: [{
        kind: "timer",
        name: "slowConsumer",
        at: now + SLOW_CONSUMER_GRACE_MS,
      }],
    };
  }
  if (now - state.overSince >= SLOW_CONSUMER_GRACE_MS) {
    return closeSlow(
      state,
      `slow consumer: over ${limit} bytes unsent for ${
        SLOW_CONSUMER_GRACE_MS / 1000
      } s`,
    );
  }
  return {
    state,
    effects: [{
      kind: "timer",
      name: "slowConsumer",
      at: state.overSince + SLOW_CONSUMER_GRACE_MS,
    }],
  };
}

/** The grace period is up: measure whether the backlog is still there. */
export function onSlowConsumerTimer(state: ConnectionState): ConnectionStep {
  if (state.overSince === null) return unchanged(state);
  return { state, effects: [{ kind: "measureBacklog" }] };
}

function closeSlow(state: ConnectionState, reason: string): ConnectionStep {
  return {
    state,
    effects: [
      { kind: "count", counter: "slowConsumerDisconnects" },
      { kind: "close", code: CloseCode.TryAgainLater, reason },
    ],
  };
}
