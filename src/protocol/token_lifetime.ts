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
import type { Effect, Step } from "./effects.ts";
import { notificationFrame } from "./frames.ts";
import { formatTimestamp } from "./message.ts";
import { unchanged } from "./replies.ts";
import type { ConnectionState } from "./state.ts";

/**
 * What a protocol tells its client about its token's end: a warning once
 * `exp` is near, and what it sends before closing with 4001 (the native
 * protocol: `tokenExpiring`, then nothing).
 */
export interface TokenNotices {
  /** The warning, 60 s before `exp`; `null` for a protocol that has none. */
  readonly expiring: (auth: Authentication) => Effect | null;
  /** Sent just before the close with 4001, at `now`. */
  readonly expired: (now: number) => readonly Effect[];
}

/** When `tokenExpiring` is due: 60 s before `exp`. */
function warnAt(auth: Authentication): number {
  return auth.expiresAt - EXPIRY_WARNING_MS;
}

/** When the connection closes with 4001: `exp` plus the leeway. */
function expiredAt(auth: Authentication): number {
  return auth.expiresAt + LEEWAY_SECONDS * 1000;
}

/** The native protocol's notices: `tokenExpiring`, then the close alone. */
const NATIVE_NOTICES: TokenNotices = {
  expiring: (auth) => ({
    kind: "reply",
    frame: notificationFrame("tokenExpiring", {
      expiresAt: formatTimestamp(auth.expiresAt),
    }),
  }),
  expired: () => [],
};

/**
 * The timers of fresh credentials, replacing earlier ones, and the
 * `tokenExpiring` warning at once if `exp` is already that near.
 */
export function lifetime(
  auth: Authentication,
  now: number,
  notices: TokenNotices = NATIVE_NOTICES,
): Effect[] {
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
  const warning = notices.expiring(auth);
  return [...(warning === null ? [] : [warning]), {
    kind: "timer",
    name: "tokenExpiring",
    at: Number.POSITIVE_INFINITY,
  }, expired];
}

/**
 * A token timer went off: warn once `exp` is near, close with 4001 once it
 * is past (plus leeway). A timer of replaced credentials finds nothing to do.
 */
export function onTokenTimer<S extends ConnectionState>(
  state: S,
  name: "tokenExpiring" | "tokenExpired",
  now: number,
  notices: TokenNotices = NATIVE_NOTICES,
): Step<S> {
  const auth = state.auth;
  if (auth === null) return unchanged(state);
  if (name === "tokenExpired" && now >= expiredAt(auth)) {
    // The credentials stay: the socket closes in this step, and its log names whose it was.
    return {
      state,
      effects: [...notices.expired(now), {
        kind: "close",
        code: CloseCode.TokenExpired,
        reason: "token expired",
      }],
    };
  }
  if (
    name === "tokenExpiring" && now >= warnAt(auth) && now < expiredAt(auth)
  ) {
    const warning = notices.expiring(auth);
    return { state, effects: warning === null ? [] : [warning] };
  }
  return unchanged(state);
}
