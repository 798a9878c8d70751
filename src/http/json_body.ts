/**
 * The first steps of every REST write (`/publish`, `/notify`,
 * `/disconnect`), cheapest first: the API key (a header), the body's size
 * (`MAX_MESSAGE_BYTES`, else 413), then its JSON.
 *
 * @module
 */

import { decodeParams, type ParamsSchema } from "../protocol/schema.ts";
import type { Services } from "../services.ts";
import { refuseWithoutApiKey } from "./api_key_guard.ts";
import {
  AbandonedBody,
  closingConnection,
  readBody,
  TOO_LARGE,
} from "./body.ts";
import { errorResponse, type HeaderList } from "./responses.ts";

/** The request's JSON body, or the error response that refuses it. */
export async function jsonBody(
  request: Request,
  services: Services,
  headers: HeaderList,
): Promise<{ readonly json: unknown } | Response> {
  const refused = refuseWithoutApiKey(request, services.apiKeys, headers);
  if (refused !== null) return refused;
  const limit = services.config.maxMessageBytes;
  const timeoutSeconds = services.config.protection.requestTimeoutSeconds;
  const body = await readBody(request, limit, timeoutSeconds * 1000);
  if (body === TOO_LARGE) return tooLarge(limit, headers);
  if (body instanceof AbandonedBody) {
    return await closingConnection(
      body.reason === "tooLarge"
        ? tooLarge(limit, headers)
        : body.reason === "late"
        ? errorResponse(
          "InvalidArgument",
          `the body did not arrive within ${timeoutSeconds} s`,
          { status: 408, headers },
        )
        : errorResponse(
          "InvalidArgument",
          "the body broke off before its end",
          { headers },
        ),
      body,
    );
  }
  try {
    return { json: JSON.parse(body) };
  } catch {
    return errorResponse("InvalidArgument", "malformed JSON", { headers });
  }
}

/** The request's JSON body checked against `schema`, or the error response that refuses it. */
export async function decodedBody<T>(
  request: Request,
  services: Services,
  headers: HeaderList,
  schema: ParamsSchema<T>,
): Promise<{ readonly value: T } | Response> {
  const body = await jsonBody(request, services, headers);
  if (body instanceof Response) return body;
  const decoded = decodeParams(schema, body.json, "body");
  return decoded.ok
    ? { value: decoded.value }
    : errorResponse(decoded.error.code, decoded.error.message, { headers });
}

function tooLarge(limit: number, headers: HeaderList): Response {
  return errorResponse("InvalidArgument", `body over ${limit} bytes`, {
    status: 413,
    headers,
  });
}
