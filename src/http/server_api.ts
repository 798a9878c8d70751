/**
 * The server API (SPEC §9), for back-ends holding an API key, cluster-wide
 * with Redis:
 * - `POST {BASE_PATH}/notify {event, payload?, users?}`: a `notification`
 *   to every authenticated connection, or to those of the listed users; not
 *   stored. `200 {"createTime"}`.
 * - `POST {BASE_PATH}/disconnect {user, reason?}`: every connection of that
 *   user closed with 4003. `200 {}`, also when the user has none.
 * - `GET {BASE_PATH}/channels?prefix=P`: the occupied channels, by name,
 *   with their connections.
 *
 * @module
 */

import { noticeFrame } from "../protocol/notices.ts";
import type { ControlCommand } from "../engine/engine.ts";
import { formatTimestamp } from "../protocol/message.ts";
import { DisconnectBody, NotifyBody } from "../protocol/schema.ts";
import { utf8ByteLength } from "../protocol/size.ts";
import type { Services } from "../services.ts";
import { refuseWithoutApiKey } from "./api_key_guard.ts";
import { decodedBody } from "./json_body.ts";
import {
  engineFailureResponse,
  errorResponse,
  type HeaderList,
  withHeaders,
} from "./responses.ts";

/** The close reason when `/disconnect` gives none. */
const DEFAULT_REASON = "disconnected by the server";

/** Answers `POST /notify`. */
export async function handleNotify(
  request: Request,
  services: Services,
  headers: HeaderList,
): Promise<Response> {
  const body = await decodedBody(request, services, headers, NotifyBody);
  if (body instanceof Response) return body;
  const { event, payload, users } = body.value;
  const createTime = formatTimestamp(services.clock());
  const notice = {
    kind: "notification",
    event,
    payloadJson: JSON.stringify(payload),
    createTime,
  } as const;
  const limit = services.config.maxMessageBytes;
  if (utf8ByteLength(noticeFrame(undefined, notice) ?? "") > limit) {
    return errorResponse(
      "InvalidArgument",
      `notification over the limit of ${limit} bytes`,
      { headers },
    );
  }
  return await sendToEveryNode(
    services,
    users === undefined
      ? { kind: "notify", notice }
      : { kind: "notify", notice, users },
    { createTime },
    headers,
  );
}

/** Answers `POST /disconnect`. */
export async function handleDisconnect(
  request: Request,
  services: Services,
  headers: HeaderList,
): Promise<Response> {
  const body = await decodedBody(request, services, headers, DisconnectBody);
  if (body instanceof Response) return body;
  const { user, reason } = body.value;
  return await sendToEveryNode(
    services,
    { kind: "disconnect", user, reason: reason ?? DEFAULT_REASON },
    {},
    headers,
  );
}

/** Has every node carry out `command`; `200 answer`, or the engine's failure. */
async function sendToEveryNode(
  services: Services,
  command: ControlCommand,
  answer: Readonly<Record<string, unknown>>,
  headers: HeaderList,
): Promise<Response> {
  try {
    await services.engine.control(command);
    return withHeaders(Response.json(answer), headers);
  } catch (error) {
    return engineFailureResponse(command.kind, error, headers);
  }
}

/** Answers `GET /channels?prefix=P`. */
export async function handleChannels(
  request: Request,
  services: Services,
  headers: HeaderList,
): Promise<Response> {
  const refused = refuseWithoutApiKey(request, services.apiKeys, headers);
  if (refused !== null) return refused;
  const prefix = new URL(request.url).searchParams.get("prefix") ?? "";
  try {
    const channels = await services.presence.channels(prefix);
    return withHeaders(Response.json({ channels }), headers);
  } catch (error) {
    return engineFailureResponse("channels", error, headers);
  }
}
