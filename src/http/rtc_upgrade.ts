/**
 * `GET /ws` (`RTC_PATH`): the upgrade of the Real-time Communication Service
 * protocol (SPEC §11). The token comes by `?token=`, by `Authorization:
 * Bearer`, or as the subprotocol `access_token.<jwt>` (which is echoed, as
 * browsers require); a missing or bad one is refused with 401 before the
 * upgrade, in the protocol's own error shape.
 *
 * @module
 */

import type { Protocol } from "../protocol/effects.ts";
import { RTC_FRAMING } from "../protocol/rtc/frames.ts";
import { reduce } from "../protocol/rtc/reducer.ts";
import { type RtcState, rtcState } from "../protocol/rtc/state.ts";
import type { Services } from "../services.ts";
import type { Refusal } from "./admission.ts";
import { accept, authenticate, isUpgrade } from "./websocket.ts";

/** The protocol of document `002`: its reducer and its frames. */
export const RTC_PROTOCOL: Protocol<RtcState> = {
  name: "rtc",
  reduce,
  framing: RTC_FRAMING,
};

/** The subprotocol prefix that carries a token. */
const TOKEN_SUBPROTOCOL = "access_token.";

/** Where the request's token came from: the token, and the subprotocol to echo. */
function tokenOf(
  request: Request,
): { readonly token: string; readonly subprotocol?: string } | null {
  const query = new URL(request.url).searchParams.get("token");
  if (query !== null && query !== "") return { token: query };
  const authorization = request.headers.get("authorization");
  const bearer = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (bearer !== undefined) return { token: bearer };
  const offered = request.headers.get("sec-websocket-protocol") ?? "";
  for (const candidate of offered.split(",")) {
    const subprotocol = candidate.trim();
    if (
      subprotocol.startsWith(TOKEN_SUBPROTOCOL) &&
      subprotocol.length > TOKEN_SUBPROTOCOL.length
    ) {
      return {
        token: subprotocol.slice(TOKEN_SUBPROTOCOL.length),
        subprotocol,
      };
    }
  }
  return null;
}

/** An HTTP refusal with the protocol's `Error` frame as its body. */
function refusal(
  status: number,
  message: string,
  headers: HeadersInit = {},
): Response {
  return Response.json(
    { type: "Error", data: { code: status, message, details: {} } },
    { status, headers },
  );
}

/** A refusal over a cap (SPEC §12), worded as the protocol's `Error` frame. */
function capRefusal(refused: Refusal): Response {
  return refusal(
    refused.status,
    refused.message,
    Object.fromEntries(refused.headers),
  );
}

/** Upgrades `request` to a WebSocket of the Real-time Communication Service protocol. */
export function handleRtcUpgrade(
  request: Request,
  remote: string,
  services: Services,
): Response {
  if (!isUpgrade(request)) {
    return refusal(426, "expected a WebSocket upgrade", {
      upgrade: "websocket",
    });
  }
  const found = tokenOf(request);
  if (found === null) {
    return refusal(
      401,
      "a token is required: ?token=, Authorization: Bearer, or the subprotocol access_token.<jwt>",
    );
  }
  const outcome = authenticate(services, found.token);
  if (!outcome.ok) return refusal(401, outcome.reason);
  return accept(request, services, {
    protocol: RTC_PROTOCOL,
    state: (connectionId) =>
      rtcState(connectionId, services.limits, outcome.auth),
    remote,
    user: outcome.auth.subject,
    refuse: capRefusal,
    ...(found.subprotocol === undefined
      ? {}
      : { subprotocol: found.subprotocol }),
  });
}
