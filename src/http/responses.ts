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
  code: ErrorCode,
  message: string,
  options: { readonly status?: number; readonly headers?: HeadersInit } = {},
): Response {
  return Response.json({ error: { code, message } }, {
    status: options.status ?? HTTP_STATUS[code],
    headers: options.headers ?? {},
  });
}

/**
 * The answer to a REST request the engine failed: the same error the
 * WebSocket protocol sends (`engineError`), 503 when the engine is
 * unavailable, else 500. The cause goes to the log.
 */
export function engineFailureResponse(
  operation: EngineOperation,
  error: unknown,
  headers: Headers,
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

/**
 * CORS for REST routes: `*`, or the request's origin when it is in the
 * allowed list (with `Vary: Origin`, so caches keep answers apart).
 */
export function corsHeaders(
  allowedOrigins: "*" | readonly string[],
  origin: string | null,
): Headers {
  const headers = new Headers();
  if (allowedOrigins === "*") {
    headers.set("access-control-allow-origin", "*");
  } else {
    headers.set("vary", "Origin");
    if (origin !== null && allowedOrigins.includes(origin)) {
      headers.set("access-control-allow-origin", origin);
    }
  }
  return headers;
}

/** The answer to a CORS preflight for a route allowing `methods`. */
export function preflight(cors: Headers, methods: string): Response {
  const headers = new Headers(cors);
  headers.set("access-control-allow-methods", methods);
  headers.set(
    "access-control-allow-headers",
    "Authorization, Content-Type",
  );
  headers.set("access-control-max-age", "86400");
  return new Response(null, { status: 204, headers });
}

/** True when a browser at `origin` may use the server (no Origin: not a browser). */
export function originAllowed(
  allowedOrigins: "*" | readonly string[],
  origin: string | null,
): boolean {
  return allowedOrigins === "*" || origin === null ||
    allowedOrigins.includes(origin);
}
