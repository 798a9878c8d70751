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
import { jsonBody } from "./json_body.ts";
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
  const body = await jsonBody(request, services, headers);
  if (body instanceof Response) return body;
  const message = newMessageFrom(
    body.json,
    services.config.maxMessageBytes,
    "body",
  );
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
