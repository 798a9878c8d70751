/**
 * REST responses: JSON errors in the protocol's shape, CORS headers.
 *
 * @module
 */

import { type ErrorCode, HTTP_STATUS } from "../protocol/errors.ts";

/**
 * A REST error, `{"error":{"code","message"}}`, with the status of its code,
 * or an explicit one (413 and 405 have no protocol code of their own).
 *
 * @example
 * ```ts
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
