/**
 * The Nova heartbeat, decided in the reducer: a server `ping` with an
 * increasing `sequence` every 30 s; a viewer heard from in no way for 60 s
 * is closed (1001), and one that echoes sequences is closed too when a
 * ping goes unanswered for 10 s. The document's own client never echoes a
 * sequence (it sends a bare `pong` every 30 s of its own accord), so only
 * the idle timeout holds it.
 *
 * @module
 */

import { CloseCode } from "../close_codes.ts";
import type { Effect, Step } from "../effects.ts";
import { formatTimestamp } from "../message.ts";
import { frame } from "./frames.ts";
import type { NovaState } from "./state.ts";

/** The heartbeat begins: the first ping an interval from now. */
export function startHeartbeat(
  state: NovaState,
  now: number,
): Step<NovaState> {
  const next = {
    ...state,
    nextPingAt: now + state.heartbeat.pingIntervalMs,
    lastHeardAt: now,
  };
  return { state: next, effects: [rearm(next)] };
}

/** The heartbeat's timer went off: close a dead viewer, or ping when due. */
export function onHeartbeat(state: NovaState, now: number): Step<NovaState> {
  const { idleTimeoutMs, pingTimeoutMs, pingIntervalMs } = state.heartbeat;
  if (now - state.lastHeardAt >= idleTimeoutMs) {
    return closeIdle(state, `idle for ${idleTimeoutMs / 1000} s`);
  }
  if (
    state.echoes && state.awaiting !== null &&
    now - state.pingSentAt >= pingTimeoutMs
  ) {
    return closeIdle(
      state,
      `ping ${state.awaiting} unanswered for ${pingTimeoutMs / 1000} s`,
    );
  }
  if (now < state.nextPingAt) return { state, effects: [rearm(state)] };
  const sequence = state.sequence + 1;
  // An unanswered ping keeps its deadline: a newer one must not reset it.
  const answered = state.awaiting === null;
  const next: NovaState = {
    ...state,
    sequence,
    awaiting: answered ? sequence : state.awaiting,
    pingSentAt: answered ? now : state.pingSentAt,
    nextPingAt: now + pingIntervalMs,
  };
  return {
    state: next,
    effects: [
      {
        kind: "send",
        text: frame("ping", { sequence, timestamp: formatTimestamp(now) }),
      },
      rearm(next),
    ],
  };
}

/** The timer at the earliest of: the next ping, the idle limit, the ping timeout. */
function rearm(state: NovaState): Effect {
  const { idleTimeoutMs, pingTimeoutMs } = state.heartbeat;
  return {
    kind: "timer",
    name: "ping",
    at: Math.min(
      state.nextPingAt,
      state.lastHeardAt + idleTimeoutMs,
      state.echoes && state.awaiting !== null
        ? state.pingSentAt + pingTimeoutMs
        : Number.POSITIVE_INFINITY,
    ),
  };
}

function closeIdle(state: NovaState, reason: string): Step<NovaState> {
  return {
    state,
    effects: [{ kind: "close", code: CloseCode.GoingAway, reason }],
  };
}
