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
 * Nothing dropped is lost silently (SPEC §7): a subscription that had a
 * broadcast dropped lags (the hub reports `lagging`) and is offered nothing
 * more. The backlog is measured every {@linkcode DRAIN_CHECK_MS}; once it is
 * down to half the limit, the shell reads what the lagging subscriptions
 * missed from history, {@linkcode CATCH_UP_BATCH} messages at a time, and
 * the hub sends it in order. A batch that fills the socket again lags again:
 * catching up is paced by the client's reading and never trips the limit
 * into a disconnect loop.
 *
 * @module
 */

import { CloseCode } from "./close_codes.ts";
import type { Step } from "./effects.ts";
import { unchanged } from "./replies.ts";
import type { ConnectionState } from "./state.ts";

/** How long a connection may stay over the limit before it is closed. */
export const SLOW_CONSUMER_GRACE_MS = 10_000;

/** How far over the limit a connection is closed at once. */
export const HARD_LIMIT_FACTOR = 4;

/** How often a lagging connection's backlog is measured. */
export const DRAIN_CHECK_MS = 50;

/**
 * Most messages one history read hands a subscription: a recovery on
 * subscribe, or one round of a lagging subscription's catch-up.
 */
export const CATCH_UP_BATCH = 256;

/** A subscription lags: measure the backlog until it drains (unless already doing so). */
export function onLagging<S extends ConnectionState>(
  state: S,
  now: number,
): Step<S> {
  if (state.lagging) return unchanged(state);
  return {
    state: { ...state, lagging: true },
    effects: [{ kind: "timer", name: "drainCheck", at: now + DRAIN_CHECK_MS }],
  };
}

/** Time to see whether a lagging connection's backlog drained. */
export function onDrainCheckTimer<S extends ConnectionState>(
  state: S,
): Step<S> {
  if (!state.lagging) return unchanged(state);
  return { state, effects: [{ kind: "measureBacklog" }] };
}

/**
 * The socket has `bytes` unsent, measured at `now`: the slow-consumer
 * policy, then, for a lagging connection, catching up or measuring again.
 */
export function onBacklog<S extends ConnectionState>(
  state: S,
  bytes: number,
  now: number,
): Step<S> {
  const policed = policeBacklog(state, bytes, now);
  if (!policed.state.lagging || closes(policed)) return policed;
  if (bytes > state.limits.outboundBufferBytes / 2) {
    return {
      state: policed.state,
      effects: [...policed.effects, {
        kind: "timer",
        name: "drainCheck",
        at: now + DRAIN_CHECK_MS,
      }],
    };
  }
  return {
    state: { ...policed.state, lagging: false },
    effects: [...policed.effects, {
      kind: "catchUp",
      subscriptions: [...state.subscriptions.values()],
      limit: CATCH_UP_BATCH,
    }],
  };
}

function closes(step: Step<unknown>): boolean {
  return step.effects.some((effect) => effect.kind === "close");
}

/** Over four times the limit, or over it for the grace period: close 1013. */
function policeBacklog<S extends ConnectionState>(
  state: S,
  bytes: number,
  now: number,
): Step<S> {
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
export function onSlowConsumerTimer<S extends ConnectionState>(
  state: S,
): Step<S> {
  if (state.overSince === null) return unchanged(state);
  return { state, effects: [{ kind: "measureBacklog" }] };
}

function closeSlow<S>(state: S, reason: string): Step<S> {
  return {
    state,
    effects: [
      { kind: "count", counter: "slowConsumerDisconnects" },
      { kind: "close", code: CloseCode.TryAgainLater, reason },
    ],
  };
}
