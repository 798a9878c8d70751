/**
 * The frames of the Real-time Communication Service protocol, exactly as its
 * document spells them: `{"type", "data"}` envelopes, `Status`, `Ack`,
 * numeric `Error`s, and the deliveries every recipient of a message shares
 * ({@linkcode RTC_FRAMING}). Times are Unix seconds, as in the document's
 * examples (`"server_time": 1234567890`).
 *
 * @module
 */

import type { EngineFailure } from "../engine_failure.ts";
import type { ErrorCode } from "../errors.ts";
import type { Message } from "../message.ts";
import { type Framing, lastOf, type Notice } from "../notices.ts";
import { topicOfChannel } from "./topics.ts";

/** The protocol version the welcome announces. */
export const PROTOCOL_VERSION = "1.0";

/** The features the welcome announces, as the document lists them. */
export const FEATURES: readonly string[] = [
  "broadcast",
  "direct_message",
  "presence",
  "history",
];

/** A client's message id, echoed as `message_id`: whatever it sent (a string, or a number). */
export type MessageId = string | number;

/** The numeric code of each protocol error, as the document's table has them. */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = {
  InvalidArgument: 400,
  AlreadyExists: 400,
  Unauthenticated: 401,
  PermissionDenied: 403,
  NotFound: 404,
  ResourceExhausted: 429,
  Internal: 500,
  FailedPrecondition: 503,
};

/** The code of an engine failure: 503 while it is unavailable (retry later), else 500. */
export function failureStatus(failure: EngineFailure): number {
  return failure === "unavailable" ? 503 : 500;
}

/** Seconds since the epoch, whole. */
export function unixSeconds(epochMilliseconds: number): number {
  return Math.floor(epochMilliseconds / 1000);
}

/**
 * One frame: `{"type", "data"}`.
 *
 * @example
 * ```ts
 * import { frame } from "./frames.ts";
 *
 * frame("Pong", { timestamp: 1 }); // '{"type":"Pong","data":{"timestamp":1}}'
 * ```
 */
export function frame(type: string, data: unknown): string {
  return JSON.stringify({ type, data });
}

/** `Status` with `status` and its `details`. */
export function statusFrame(
  status: string,
  details: Readonly<Record<string, unknown>>,
): string {
  return frame("Status", { status, details });
}

/** `Ack` of the message `id`, with `status` and the other fields given. */
export function ackFrame(
  id: MessageId,
  status: string,
  fields: Readonly<Record<string, unknown>>,
): string {
  return frame("Ack", { message_id: id, status, ...fields });
}

/**
 * `Error` with a numeric `code`, a message, and `details` (always an object;
 * it carries `message_id` when the request had one).
 *
 * @example
 * ```ts
 * import { errorFrame } from "./frames.ts";
 *
 * errorFrame(400, "bad", "m1");
 * // '{"type":"Error","data":{"code":400,"message":"bad","details":{"message_id":"m1"}}}'
 * ```
 */
export function errorFrame(
  code: number,
  message: string,
  id: MessageId | undefined,
  details: Readonly<Record<string, unknown>> = {},
): string {
  return frame("Error", {
    code,
    message,
    details: id === undefined ? details : { message_id: id, ...details },
  });
}

/** `sent_at`, `message_id` and the publisher's `event`: the metadata of a delivery. */
function metadataJson(message: Message): string {
  return `"metadata":{"sent_at":${
    unixSeconds(Date.parse(message.createTime))
  },"message_id":${JSON.stringify(message.id)},"event":${
    JSON.stringify(message.event)
  }}`;
}

/**
 * A message as this protocol delivers it: a personal channel's as a
 * `DirectMessage` (`from_user` is `null` when a back-end sent it), any
 * other as a `Broadcast` on its topic.
 */
function deliveryFrame(message: Message): string {
  if (message.channel.startsWith("#")) {
    return `{"type":"DirectMessage","data":{"from_user":${
      message.from === undefined ? "null" : JSON.stringify(message.from)
    },"payload":${message.payloadJson},${metadataJson(message)}}}`;
  }
  return `{"type":"Broadcast","data":{"topic":${
    JSON.stringify(topicOfChannel(message.channel))
  },"payload":${message.payloadJson},${metadataJson(message)}}}`;
}

/**
 * A notice as this protocol frames it: join and leave as `Presence`
 * (`online`, `offline`), a server notification as `Notification` whose
 * data is the payload; occupancy has no frame here.
 */
function noticeFrame(notice: Notice): string | null {
  switch (notice.kind) {
    case "join":
    case "leave":
      return `{"type":"Presence","data":{"user_id":${
        JSON.stringify(notice.user)
      },"status":"${
        notice.kind === "join" ? "online" : "offline"
      }","last_seen":${unixSeconds(notice.at)},"metadata":${
        notice.kind === "join" && notice.info !== undefined ? notice.info : "{}"
      },"topic":${JSON.stringify(topicOfChannel(notice.channel))}}}`;
    case "notification":
      return `{"type":"Notification","data":${notice.payloadJson}}`;
    case "occupancy":
      return null;
  }
}

/**
 * How the hub frames deliveries and notices for this protocol's clients:
 * once per message or notice, however many of them it goes to.
 */
export const RTC_FRAMING: Framing = {
  broadcast: lastOf(deliveryFrame),
  notice: lastOf(noticeFrame),
};
