/**
 * `GET {BASE_PATH}/history?channel=C&limit=N`: a channel's recent messages,
 * oldest first, for back-end services holding an API key.
 *
 * @module
 */

import { historyLimit } from "../protocol/history.ts";
import { messagesJson } from "../protocol/message.ts";
import type { Services } from "../services.ts";
import { refuseWithoutApiKey } from "./api_key_guard.ts";
import { channelQuery } from "./channel_query.ts";
import {
  engineFailureResponse,
  errorResponse,
  type HeaderList,
  withHeaders,
} from "./responses.ts";

/** Answers one REST history request: `200 {"messages":[...]}` or a JSON error. */
export async function handleHistory(
  request: Request,
  services: Services,
  headers: HeaderList,
): Promise<Response> {
  const refused = refuseWithoutApiKey(request, services.apiKeys, headers);
  if (refused !== null) return refused;
  const query = new URL(request.url).searchParams;
  const channel = channelQuery(query, headers);
  if (channel instanceof Response) return channel;
  const limitText = query.get("limit");
  const limit = limitText === null ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit <= 0)) {
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
      historyLimit(
        limit,
        services.limits.namespaces.policyOf(channel).historySize,
      ),
    );
    return withHeaders(new Response(messagesJson(messages)), [
      ["content-type", "application/json"],
      ...headers,
    ]);
  } catch (error) {
    return engineFailureResponse("history", error, headers);
  }
}
