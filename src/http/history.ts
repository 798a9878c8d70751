/**
 * `GET {BASE_PATH}/history?channel=C&limit=N`: a channel's recent messages,
 * oldest first, for back-end services holding an API key.
 *
 * @module
 */

import type { ApiKeys } from "../auth/api_key.ts";
import { type Engine, EngineUnavailableError } from "../engine/engine.ts";
import { log } from "../log.ts";
import { isValidChannelName } from "../protocol/channel.ts";
import { messagesJson } from "../protocol/message.ts";
import { invalidChannel } from "../protocol/publication.ts";
import { refuseWithoutApiKey } from "./api_key_guard.ts";
import { errorResponse } from "./responses.ts";

const logger = log("http");

/** What the REST history route needs. */
export interface HistoryServices {
  readonly apiKeys: ApiKeys;
  readonly engine: Engine;
  /** `HISTORY_SIZE`: the default and the most `limit` may ask for. */
  readonly historySize: number;
}

/** Answers one REST history request: `200 {"messages":[...]}` or a JSON error. */
export async function handleHistory(
  request: Request,
  services: HistoryServices,
  headers: Headers,
): Promise<Response> {
  const refused = refuseWithoutApiKey(request, services.apiKeys, headers);
  if (refused !== null) return refused;
  const query = new URL(request.url).searchParams;
  const channel = query.get("channel");
  if (channel === null) {
    return errorResponse("InvalidArgument", "channel is required", { headers });
  }
  if (!isValidChannelName(channel)) {
    const { code, message } = invalidChannel(channel);
    return errorResponse(code, message, { headers });
  }
  const limitText = query.get("limit");
  const limit = limitText === null ? services.historySize : Number(limitText);
  if (!Number.isSafeInteger(limit) || limit <= 0) {
    return errorResponse(
      "InvalidArgument",
      "limit must be a positive integer",
      {
        headers,
      },
    );
  }
  try {
    const messages = await services.engine.history(
      channel,
      Math.min(limit, services.historySize),
    );
    headers.set("content-type", "application/json");
    return new Response(messagesJson(messages), { headers });
  } catch (error) {
    logger.warning("REST history failed: {error}", { error: String(error) });
    const unavailable = error instanceof EngineUnavailableError;
    return errorResponse("Internal", "history unavailable, try again", {
      status: unavailable ? 503 : 500,
      headers,
    });
  }
}
