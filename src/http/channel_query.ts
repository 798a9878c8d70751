/**
 * The `?channel=` of the REST reads (`/history`, `/presence`,
 * `/presence/stats`): required and valid, or the error response that says
 * why not.
 *
 * @module
 */

import { isChannel } from "../protocol/channel.ts";
import { invalidChannel } from "../protocol/publication.ts";
import { errorResponse, type HeaderList } from "./responses.ts";

/** The channel a read asks for, or the `400` answering it. */
export function channelQuery(
  query: URLSearchParams,
  headers: HeaderList,
): string | Response {
  const channel = query.get("channel");
  if (channel === null) {
    return errorResponse("InvalidArgument", "channel is required", { headers });
  }
  if (!isChannel(channel)) {
    const { code, message } = invalidChannel(channel);
    return errorResponse(code, message, { headers });
  }
  return channel;
}
