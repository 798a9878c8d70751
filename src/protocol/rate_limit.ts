/**
 * The per-connection request budget: a token bucket of `RATE_LIMIT` requests
 * per second with bursts up to twice that, and the line past which refusals
 * become abuse.
 *
 * Pure: time is passed in, the bucket is replaced, never mutated.
 *
 * @module
 */

import { CloseCode } from "./close_codes.ts";
import type { Effect, Step } from "./effects.ts";
import type { ConnectionState } from "./state.ts";

/** The bucket of one connection. */
export interface RateState {
  /** Requests that may be made right now (fractional while refilling). */
  readonly tokens: number;
  /** When `tokens` was last computed, epoch ms. */
  readonly updatedAt: number;
  /** Requests refused since `windowStart`. */
  readonly refusals: number;
  /** When (epoch ms) the current abuse window began. */
  readonly windowStart: number;
}

/** How long refusals are counted together when judging abuse. */
export const ABUSE_WINDOW_MS = 10_000;

/** What to do with one request. */
export type Admission = "admit" | "refuse" | "abuse";

/** A full bucket: a new connection may burst at once. */
export const FULL_BUCKET: RateState = {
  tokens: Number.POSITIVE_INFINITY,
  updatedAt: 0,
  refusals: 0,
  windowStart: 0,
};

/**
 * Takes one request out of the bucket. `refuse` answers it with
 * `ResourceExhausted`; `abuse`, more than `rate` refusals within
 * {@linkcode ABUSE_WINDOW_MS} (a client ignoring its errors), closes the
 * connection with 1008.
 *
 * @example
 * ```ts
 * const { admission, state } = admit(FULL_BUCKET, 100, Date.now());
 * ```
 */
export function admit(
  state: RateState,
  rate: number,
  now: number,
): { readonly state: RateState; readonly admission: Admission } {
  const capacity = rate * 2;
  const elapsed = Math.max(0, now - state.updatedAt);
  const tokens = Math.min(capacity, state.tokens + (elapsed * rate) / 1000);
  if (tokens >= 1) {
    return {
      state: { ...state, tokens: tokens - 1, updatedAt: now },
      admission: "admit",
    };
  }
  const fresh = now - state.windowStart > ABUSE_WINDOW_MS;
  const refusals = (fresh ? 0 : state.refusals) + 1;
  return {
    state: {
      tokens,
      updatedAt: now,
      refusals,
      windowStart: fresh ? now : state.windowStart,
    },
    admission: refusals > rate ? "abuse" : "refuse",
  };
}

/**
 * The effects of a frame the bucket refused: counted for the operator,
 * answered with `answer` (each protocol words its own), and, for abuse, the
 * socket closed with 1008.
 */
export function refusal(
  admission: Exclude<Admission, "admit">,
  answer: readonly Effect[],
): Effect[] {
  const effects: Effect[] = [
    { kind: "count", counter: "rateLimited" },
    ...answer,
  ];
  if (admission === "abuse") {
    effects.push({
      kind: "close",
      code: CloseCode.PolicyViolation,
      reason: "rate limit abuse",
    });
  }
  return effects;
}

/**
 * Spends one frame of `previous`'s budget at `now`: `next` with the bucket
 * taken from, or the dialect's `refused` answer (counted; abuse closes
 * 1008). Every frame spends, malformed and binary ones too.
 */
export function admitted<S extends ConnectionState, E = never>(
  previous: S,
  now: number,
  answers: {
    readonly refused: (state: S) => Effect;
    readonly next: (state: S) => Step<S, E>;
  },
): Step<S, E> {
  const { state: rate, admission } = admit(
    previous.rate,
    previous.limits.rateLimit,
    now,
  );
  const state = { ...previous, rate };
  if (admission === "admit") return answers.next(state);
  return { state, effects: refusal(admission, [answers.refused(state)]) };
}
