/**
 * `GET {BASE_PATH}/websocket`: the upgrade, with optional `?token=`
 * authentication before it and the origin policy right after it.
 *
 * The URL is never logged: it may carry a token.
 *
 * @module
 */

import { authenticationFromClaims } from "../protocol/authentication.ts";
import { CloseCode } from "../protocol/close_codes.ts";
import { initialState } from "../protocol/state.ts";
import type { Services } from "../services.ts";
import { Connection } from "./connection.ts";
import { checkToken } from "./core_effects.ts";
import { errorResponse, originAllowed } from "./responses.ts";

/** Random per process, so ids of different nodes do not collide. */
const ID_PREFIX = crypto.randomUUID().slice(0, 8);
let connectionsOpened = 0;

/**
 * A short id for a connection, unique per process and (by its random
 * prefix) across nodes: 8 hex digits, a dash, a counter in base 36.
 *
 * @example
 * ```ts
 * import { newConnectionId } from "./websocket.ts";
 *
 * newConnectionId(); // e.g. "3f9c2a1b-1"
 * ```
 */
export function newConnectionId(): string {
  return `${ID_PREFIX}-${(++connectionsOpened).toString(36)}`;
}

/** Upgrades `request` to a WebSocket run by a {@linkcode Connection}. */
export function handleUpgrade(
  request: Request,
  remote: string,
  services: Services,
): Response {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return errorResponse("InvalidArgument", "expected a WebSocket upgrade", {
      headers: [["upgrade", "websocket"]],
      status: 426,
    });
  }
  // Read everything from the request now: after the upgrade it is closed.
  const origin = request.headers.get("origin");
  const token = new URL(request.url).searchParams.get("token");
  let auth = null;
  if (token !== null && token !== "") {
    const outcome = checkToken(services, token);
    if (!outcome.ok) return errorResponse("Unauthenticated", outcome.reason);
    const granted = authenticationFromClaims(outcome.claims);
    if (!granted.ok) {
      return errorResponse("Unauthenticated", granted.error.message);
    }
    auth = granted.value;
  }
  const { socket, response } = Deno.upgradeWebSocket(request, {
    // Seconds without a pong before Deno closes the socket; 0 disables pings.
    idleTimeout: services.config.idleTimeoutSeconds,
  });
  if (!originAllowed(services.config.allowedOrigins, origin)) {
    socket.onopen = () =>
      socket.close(CloseCode.PolicyViolation, "origin not allowed");
    return response;
  }
  new Connection(socket, services, {
    state: initialState({
      connectionId: newConnectionId(),
      limits: services.limits,
      auth,
    }),
    remote,
    connections: services.connections,
  });
  return response;
}
