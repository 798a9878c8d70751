/**
 * REST responses: JSON errors in the protocol's shape, CORS headers.
 *
 * @module
 */

import { failureOf } from "../engine/engine.ts";
import { log } from "../log.ts";
import {
  engineError,
  engineFailureStatus,
  type EngineOperation,
} from "../protocol/engine_failure.ts";
import { type ErrorCode, HTTP_STATUS } from "../protocol/errors.ts";

const logger = log("http");

/**
 * Response headers as name–value pairs. Appended after a response is built:
 * Deno's `Response` copies `init.headers` through WebIDL conversion, which
 * cost more than a whole REST publish's own work in `deno task bench`.
 */
export type HeaderList = readonly (readonly [string, string])[];

/**
 * `response` with `headers` appended.
 *
 * @example
 * ```ts
 * import { withHeaders } from "./responses.ts";
 *
 * const response = withHeaders(Response.json({ ok: true }), [["vary", "Origin"]]);
 * ```
 */
export function withHeaders(response: Response, headers: HeaderList): Response {
  for (const [name, value] of headers) response.headers.append(name, value);
  return response;
}

/**
 * A REST error, `{"error":{"code","message"}}`, with the status of its code,
 * or an explicit one (413 and 405 have no protocol code of their own).
 *
 * @example
 * ```ts
 * import { errorResponse } from "./responses.ts";
 *
 * errorResponse("Unauthenticated", "missing API key"); // 401
 * ```
 */
export function errorResponse(
  code: RestErrorCode,
  message: string,
  options: { readonly status?: number; readonly headers?: HeaderList } = {},
): Response {
  return withHeaders(
    Response.json({ error: { code, message } }, {
      status: options.status ??
        (code === "MethodNotAllowed" ? 405 : HTTP_STATUS[code]),
    }),
    options.headers ?? [],
  );
}

/** Error codes of REST answers: the protocol's, and 405's own. */
export type RestErrorCode = ErrorCode | "MethodNotAllowed";

/**
 * The answer to a REST request the engine failed: the same error the
 * WebSocket protocol sends (`engineError`), 503 when the engine is
 * unavailable, else 500. The cause goes to the log.
 */
export function engineFailureResponse(
  operation: EngineOperation,
  error: unknown,
  headers: HeaderList,
): Response {
  logger.warning("REST {operation} failed: {error}", {
    operation,
    error: String(error),
  });
  const failure = failureOf(error);
  const { code, message } = engineError(operation, failure);
  return errorResponse(code, message, {
    status: engineFailureStatus(failure),
    headers,
  });
}

/** CORS for any origin (`ALLOWED_ORIGINS=*`): one list shared by every answer. */
const ANY_ORIGIN: HeaderList = [["access-control-allow-origin", "*"]];

/** CORS for a list of origins when the request's is not one of them. */
const VARY_ONLY: HeaderList = [["vary", "Origin"]];

/**
 * CORS for REST routes: `*`, or the request's origin when it is in the
 * allowed list (with `Vary: Origin`, so caches keep answers apart).
 */
export function corsHeaders(
  allowedOrigins: "*" | readonly string[],
  origin: string | null,
): HeaderList {
  if (allowedOrigins === "*") return ANY_ORIGIN;
  if (origin === null || !allowedOrigins.includes(origin)) return VARY_ONLY;
  return [["vary", "Origin"], ["access-control-allow-origin", origin]];
}

/** The answer to a CORS preflight for a route allowing `methods`. */
export function preflight(cors: HeaderList, methods: string): Response {
  return withHeaders(new Response(null, { status: 204 }), [
    ...cors,
    ["access-control-allow-methods", methods],
    ["access-control-allow-headers", "Authorization, Content-Type"],
    ["access-control-max-age", "86400"],
  ]);
}

/** True when a browser at `origin` may use the server (no Origin: not a browser). */
export function originAllowed(
  allowedOrigins: "*" | readonly string[],
  origin: string | null,
): boolean {
  return allowedOrigins === "*" || origin === null ||
    allowedOrigins.includes(origin);
}
