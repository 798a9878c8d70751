/**
 * How the Real-time Communication Service protocol words a token's end:
 * `AuthStatus token_expiring` 60 s before `exp`, and `Error 401` just before
 * the close with 4001 (the document says to get a new token and reconnect).
 *
 * @module
 */

import type { TokenNotices } from "../token_lifetime.ts";
import { errorFrame, frame, unixSeconds } from "./frames.ts";
import { send } from "./replies.ts";

/** The protocol's token notices, for `lifetime` and `onTimer`. */
export const TOKEN_NOTICES: TokenNotices = {
  expiring: (auth) =>
    send(frame("AuthStatus", {
      status: "token_expiring",
      expires_at: unixSeconds(auth.expiresAt),
      refresh_required: true,
    })),
  expired: () => [
    send(
      errorFrame(
        401,
        "token expired: obtain a new token and reconnect",
        undefined,
      ),
    ),
  ],
};
