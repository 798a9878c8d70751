/**
 * The frames of the WebRocket protocol: `{"event-name": data}` answers,
 * `{"err": "ERROR_ID", "additional_info": "…"}` errors with the document's
 * ids, and deliveries exactly `{"<event>": {"channel", "data"}}`, built
 * once per message for every subscriber ({@linkcode WEBROCKET_FRAMING}).
 *
 * @module
 */

import type { Message } from "../message.ts";
import { type Framing, lastOf, type Notice } from "../notices.ts";

/**
 * The document's error ids, and two of ours: `RATE_LIMITED` (a client over
 * `RATE_LIMIT`) and `INTERNAL_ERROR` (the engine failed), which the
 * document has no id for.
 */
export type ErrorId =
  | "INVALID_CREDENTIALS"
  | "USER_NOT_FOUND"
  | "INVALID_USER_NAME"
  | "INVALID_PAYLOAD"
  | "INVALID_CHANNEL_NAME"
  | "ACCESS_DENIED"
  | "CHANNEL_NOT_FOUND"
  | "INVALID_EVENT_NAME"
  | "ASSIGNATION_FAILED"
  | "RATE_LIMITED"
  | "INTERNAL_ERROR";

/** The answers a client gets, by their event name: a broadcast may not use them. */
export const ANSWER_EVENTS: ReadonlySet<string> = new Set([
  "authenticated",
  "subscribed",
  "unsubscribed",
  "broadcasted",
  "triggered",
  "loggedOut",
  "err",
]);

/**
 * An error frame.
 *
 * @example
 * ```ts
 * import { errFrame } from "./frames.ts";
 *
 * errFrame("ACCESS_DENIED", "not authenticated for reading");
 * // '{"err":"ACCESS_DENIED","additional_info":"not authenticated for reading"}'
 * ```
 */
export function errFrame(id: ErrorId, info: string): string {
  return JSON.stringify({ err: id, "additional_info": info });
}

/** An answer `{"<name>": value}`. */
export function answerFrame(name: string, value: unknown): string {
  return JSON.stringify({ [name]: value });
}

function deliveryFrame(message: Message): string {
  return `{${JSON.stringify(message.event)}:{"channel":${
    JSON.stringify(message.channel)
  },"data":${message.payloadJson}}}`;
}

function noticeFrame(notice: Notice): string | null {
  return notice.kind === "notification"
    ? `{${JSON.stringify(notice.event)}:{"data":${notice.payloadJson}}}`
    : null;
}

/**
 * How the hub frames for WebRocket clients: a broadcast as
 * `{"<event>": {"channel", "data"}}`, a `/notify` as
 * `{"<event>": {"data"}}`; presence has no frame here.
 */
export const WEBROCKET_FRAMING: Framing = {
  broadcast: lastOf(deliveryFrame),
  notice: lastOf(noticeFrame),
};
