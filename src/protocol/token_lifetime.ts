/**
 * Token lifetime as reducer timers: `tokenExpiring` 60 s before `exp`, and
 * close 4001 at `exp` plus the leeway unless a refresh replaced the token.
 *
 * @module
 */

import {
  type Authentication,
  EXPIRY_WARNING_MS,
  LEEWAY_SECONDS,
} from "./authentication.ts";
import { CloseCode } from "./close_codes.ts";
import type { Effect } from "./effects.ts";
import { notificationFrame } from "./frames.ts";
import { formatTimestamp } from "./message.ts";
import { type ConnectionStep, unchanged } from "./replies.ts";
import type { ConnectionState } from "./state.ts";

/** When `tokenExpiring` is due: 60 s before `exp`. */
function warnAt(auth: Authentication): number {
  return auth.expiresAt - EXPIRY_WARNING_MS;
}

/** When the connection closes with 4001: `exp` plus the leeway. */
function expiredAt(auth: Authentication): number {
  return auth.expiresAt + LEEWAY_SECONDS * 1000;
}

function expiringNotice(auth: Authentication): Effect {
  return {
    kind: "reply",
    frame: notificationFrame("tokenExpiring", {
      expiresAt: formatTimestamp(auth.expiresAt),
    }),
  };
}

/**
 * The timers of fresh credentials, replacing earlier ones, and the
 * `tokenExpiring` warning at once if `exp` is already that near.
 */
export function lifetime(auth: Authentication, now: number): Effect[] {
  const expired: Effect = {
    kind: "timer",
    name: "tokenExpired",
    at: expiredAt(auth),
  };
  if (now < warnAt(auth)) {
    return [
      { kind: "timer", name: "tokenExpiring", at: warnAt(auth) },
      expired,
    ];
  }
  // Warned now: the earlier credentials' warning timer, if any, must not fire again.
  return [expiringNotice(auth), {
    kind: "timer",
    name: "tokenExpiring",
    at: Number.POSITIVE_INFINITY,
  }, expired];
}

/**
 * A token timer went off: warn once `exp` is near, close with 4001 once it
 * is past (plus leeway). A timer of replaced credentials finds nothing to do.
 */
export function onTokenTimer(
  state: ConnectionState,
  name: "tokenExpiring" | "tokenExpired",
  now: number,
): ConnectionStep {
  const auth = state.auth;
  if (auth === null) return unchanged(state);
  if (name === "tokenExpired" && now >= expiredAt(auth)) {
    return {
      state: { ...state, auth: null },
      effects: [{
        kind: "close",
        code: CloseCode.TokenExpired,
        reason: "token expired",
      }],
    };
  }
  if (
    name === "tokenExpiring" && now >= warnAt(auth) && now < expiredAt(auth)
  ) {
    return { state, effects: [expiringNotice(auth)] };
  }
  return unchanged(state);
}
