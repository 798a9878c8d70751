/**
 * `POST {BASE_PATH}/publish`: back-end services publish with an API key.
 *
 * Checks run cheapest first: credentials (header only), body size, JSON, then
 * the same validation as the WebSocket `publish`.
 *
 * @module
 */

import { newMessageFrom } from "../protocol/publication.ts";
import type { Services } from "../services.ts";
import { refuseWithoutApiKey } from "./api_key_guard.ts";
import { readBody } from "./body.ts";
import {
  engineFailureResponse,
  errorResponse,
  type HeaderList,
  withHeaders,
} from "./responses.ts";

/**
 * Answers one REST publish: `200 {"id","createTime"}` or a JSON error.
 * The CORS `headers` go on every answer, errors included, so browsers can read them.
 */
export async function handlePublish(
  request: Request,
  services: Services,
  headers: HeaderList,
): Promise<Response> {
  const refused = refuseWithoutApiKey(request, services.apiKeys, headers);
  if (refused !== null) return refused;
  // Largest body accepted, in bytes (`MAX_MESSAGE_BYTES`); over it: 413.
  const limit = services.config.maxMessageBytes;
  const body = await readBody(request, limit);
  if (body === null) {
    return errorResponse("InvalidArgument", `body over ${limit} bytes`, {
      status: 413,
      headers,
    });
  }
  let params: unknown;
  try {
    params = JSON.parse(body);
  } catch {
    return errorResponse("InvalidArgument", "malformed JSON", { headers });
  }
  const message = newMessageFrom(params, limit, "body");
  if (!message.ok) {
    return errorResponse(message.error.code, message.error.message, {
      headers,
    });
  }
  try {
    const { id, createTime } = await services.engine.publish(message.value);
    services.metrics.published.rest.inc();
    return withHeaders(Response.json({ id, createTime }), headers);
  } catch (error) {
    return engineFailureResponse("publish", error, headers);
  }
}
