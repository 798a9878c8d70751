/**
 * `GET {BASE_PATH}/websocket`: the upgrade, with optional `?token=`
 * authentication before it and the origin policy right after it. The other
 * protocols' upgrades (`rtc_upgrade.ts`) share {@linkcode isUpgrade},
 * {@linkcode authenticate} and {@linkcode accept}.
 *
 * The URL is never logged: it may carry a token.
 *
 * @module
 */

import {
  type Authentication,
  authenticationFromClaims,
} from "../protocol/authentication.ts";
import { CloseCode } from "../protocol/close_codes.ts";
import type { Kinded, Protocol } from "../protocol/effects.ts";
import { reduce } from "../protocol/reducer.ts";
import { type ConnectionState, initialState } from "../protocol/state.ts";
import type { Services } from "../services.ts";
import { type Refusal, restRefusal } from "./admission.ts";
import { Connection } from "./connection.ts";
import { checkToken } from "./core_effects.ts";
import { errorResponse, originAllowed } from "./responses.ts";

/** The native protocol (SPEC §3): its reducer, and the hub's own frames. */
export const NATIVE_PROTOCOL: Protocol<ConnectionState> = {
  name: "native",
  reduce,
  framing: undefined,
};

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

/** A token's credentials, or why it is refused (counted in metrics). */
export function authenticate(
  services: Services,
  token: string,
):
  | { readonly ok: true; readonly auth: Authentication }
  | { readonly ok: false; readonly reason: string } {
  const outcome = checkToken(services, token);
  if (!outcome.ok) return outcome;
  const granted = authenticationFromClaims(outcome.claims);
  return granted.ok
    ? { ok: true, auth: granted.value }
    : { ok: false, reason: granted.error.message };
}

/** Whether `request` asks for a WebSocket upgrade (else it is answered 426). */
export function isUpgrade(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** Options of {@linkcode accept}. */
export interface AcceptOptions<
  S extends ConnectionState,
  E extends Kinded = never,
  I extends Kinded = never,
> {
  /** The protocol the socket speaks. */
  readonly protocol: Protocol<S, E, I>;
  /** Its starting state, given the connection's id. */
  readonly state: (connectionId: string) => S;
  /** Where the client connects from: for the logs and the per-address cap. */
  readonly remote: string;
  /** The user its token names, if it brought one (for the per-user cap). */
  readonly user: string | null;
  /** The subprotocol to answer with (`Sec-WebSocket-Protocol`), if any. */
  readonly subprotocol?: string;
  /** How the protocol words a refusal over a cap; the REST error shape if not given. */
  readonly refuse?: (refusal: Refusal) => Response;
}

/**
 * Upgrades `request` and hands the socket to a {@linkcode Connection}; a
 * browser from an origin not allowed is closed with 1008 once open.
 */
export function accept<
  S extends ConnectionState,
  E extends Kinded = never,
  I extends Kinded = never,
>(
  request: Request,
  services: Services,
  options: AcceptOptions<S, E, I>,
): Response {
  // The caps first: a refusal costs no socket (SPEC §12).
  const refused = services.admission.refusal({
    address: options.remote,
    user: options.user,
    open: services.connections.size,
  });
  if (refused !== null) return (options.refuse ?? restRefusal)(refused);
  // Read everything from the request now: after the upgrade it is closed.
  const origin = request.headers.get("origin");
  const { socket, response } = Deno.upgradeWebSocket(request, {
    // Seconds without a pong before Deno closes the socket; 0 disables pings.
    idleTimeout: services.config.idleTimeoutSeconds,
    ...(options.subprotocol === undefined
      ? {}
      : { protocol: options.subprotocol }),
  });
  if (!originAllowed(services.config.allowedOrigins, origin)) {
    socket.onopen = () =>
      socket.close(CloseCode.PolicyViolation, "origin not allowed");
    return response;
  }
  new Connection(socket, services, {
    protocol: options.protocol,
    state: options.state(newConnectionId()),
    remote: options.remote,
    connections: services.connections,
  });
  return response;
}

/** Upgrades `request` to a WebSocket of the native protocol. */
export function handleUpgrade(
  request: Request,
  remote: string,
  services: Services,
): Response {
  if (!isUpgrade(request)) {
    return errorResponse("InvalidArgument", "expected a WebSocket upgrade", {
      headers: [["upgrade", "websocket"]],
      status: 426,
    });
  }
  const token = new URL(request.url).searchParams.get("token");
  let auth: Authentication | null = null;
  if (token !== null && token !== "") {
    const outcome = authenticate(services, token);
    if (!outcome.ok) return errorResponse("Unauthenticated", outcome.reason);
    auth = outcome.auth;
  }
  return accept(request, services, {
    protocol: NATIVE_PROTOCOL,
    state: (connectionId) =>
      initialState({ connectionId, limits: services.limits, auth }),
    remote,
    user: auth?.subject ?? null,
  });
}
