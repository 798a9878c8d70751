/**
 * `POST {BASE_PATH}/publish`: back-end services publish with an API key.
 *
 * Checks run cheapest first: credentials (header only), body size, JSON, then
 * the same validation as the WebSocket `publish`.
 *
 * @module
 */

import type { ApiKeys } from "../auth/api_key.ts";
import { type Engine, EngineUnavailableError } from "../engine/engine.ts";
import { log } from "../log.ts";
import type { ServerMetrics } from "../metrics/server_metrics.ts";
import { newMessageFrom } from "../protocol/publication.ts";
import { refuseWithoutApiKey } from "./api_key_guard.ts";
import { readBody } from "./body.ts";
import { errorResponse } from "./responses.ts";

const logger = log("http");

/** What the REST publish route needs. */
export interface PublishServices {
  readonly apiKeys: ApiKeys;
  readonly engine: Engine;
  /** Largest body accepted, in bytes (`MAX_MESSAGE_BYTES`); over it: 413. */
  readonly maxMessageBytes: number;
  readonly metrics: ServerMetrics;
}

/**
 * Answers one REST publish: `200 {"id","createTime"}` or a JSON error.
 * The CORS `headers` go on every answer, errors included, so browsers can read them.
 */
export async function handlePublish(
  request: Request,
  services: PublishServices,
  headers: Headers,
): Promise<Response> {
  const refused = refuseWithoutApiKey(request, services.apiKeys, headers);
  if (refused !== null) return refused;
  const limit = services.maxMessageBytes;
  const body = await readBody(request, limit);
  if (!body.ok) {
    return errorResponse("InvalidArgument", `body over ${limit} bytes`, {
      status: 413,
      headers,
    });
  }
  let params: unknown;
  try {
    params = JSON.parse(body.text);
  } catch {
    return errorResponse("InvalidArgument", "malformed JSON", { headers });
  }
  const message = newMessageFrom(params, limit);
  if (!message.ok) {
    return errorResponse(message.error.code, message.error.message, {
      headers,
    });
  }
  try {
    const { id, createTime } = await services.metrics.publish(
      services.engine,
      message.value,
      "rest",
    );
    return Response.json({ id, createTime }, { headers });
  } catch (error) {
    logger.warning("REST publish failed: {error}", { error: String(error) });
    if (error instanceof EngineUnavailableError) {
      return errorResponse(
        "Internal",
        "publish failed: the engine is unavailable, try again",
        { status: 503, headers },
      );
    }
    return errorResponse("Internal", "publish failed", { headers });
  }
}
