/**
 * Decoding a client's text frame: `{"type", "data", "id"?, "timestamp"?,
 * "metadata"?}`. The envelope is checked here; each type's `data` by the
 * schemas below, through the same `decodeParams` as native params, so a
 * problem is named by its field (`data.topics: must be an array`).
 *
 * @module
 */

import { z } from "zod";
import type { ParamsSchema } from "../schema.ts";
import type { MessageId } from "./frames.ts";

/** A well-formed envelope. */
export interface Envelope {
  /** The message type, e.g. `Subscribe`, or a custom `X-…`. */
  readonly type: string;
  /** Its payload; `undefined` when absent. */
  readonly data: unknown;
  /** The client's message id, echoed as `message_id`. */
  readonly id: MessageId | undefined;
}

/** What a text frame is: an envelope, or why not (with its id, when one could be read). */
export type DecodedEnvelope =
  | { readonly ok: true; readonly envelope: Envelope }
  | {
    readonly ok: false;
    readonly message: string;
    readonly id: MessageId | undefined;
  };

function isMessageId(value: unknown): value is MessageId {
  return typeof value === "string" ||
    (typeof value === "number" && Number.isFinite(value));
}

/**
 * Decodes a text frame. Fields the document allows but gives no meaning to
 * (`timestamp`, `metadata`) are accepted and ignored.
 *
 * @example
 * ```ts
 * import { decodeEnvelope } from "./envelope.ts";
 *
 * decodeEnvelope('{"type":"Ping","data":{"timestamp":1},"id":"p1"}');
 * // { ok: true, envelope: { type: "Ping", data: { timestamp: 1 }, id: "p1" } }
 * decodeEnvelope("nonsense"); // { ok: false, message: "malformed JSON", id: undefined }
 * ```
 */
export function decodeEnvelope(text: string): DecodedEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, message: "malformed JSON", id: undefined };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return {
      ok: false,
      message: "a message must be a JSON object",
      id: undefined,
    };
  }
  const { type, data, id } = value as Record<string, unknown>;
  const messageId = isMessageId(id) ? id : undefined;
  if (id !== undefined && id !== null && messageId === undefined) {
    return {
      ok: false,
      message: "id must be a string or a number",
      id: undefined,
    };
  }
  if (typeof type !== "string" || type === "") {
    return {
      ok: false,
      message: "type must be a non-empty string",
      id: messageId,
    };
  }
  return { ok: true, envelope: { type, data, id: messageId } };
}

const topicList = z.array(z.string({ error: "must be strings" }), {
  error: "must be an array of topics",
});

/** `Subscribe` and `Unsubscribe`: `{topics: [...]}`, at least one. */
export const TopicsData: ParamsSchema<{ topics: string[] }> = z.object({
  topics: topicList.min(1, "must name at least one topic"),
});

/** `Broadcast`: `{topic, payload}`. */
export const BroadcastData: ParamsSchema<{ topic: string; payload: unknown }> =
  z.object({
    topic: z.string({ error: "must be a string" }),
    payload: z.unknown().refine(
      (payload) => payload !== undefined,
      "is required",
    ),
  });

/** `DirectMessage`: `{target_user, payload}`. */
export const DirectMessageData: ParamsSchema<
  { target_user: string; payload: unknown }
> = z.object({
  target_user: z.string({ error: "must be a string" }).min(
    1,
    "must not be empty",
  ),
  payload: z.unknown().refine(
    (payload) => payload !== undefined,
    "is required",
  ),
});

/** `Ping`: `{timestamp?}`, any number. */
export const PingData: ParamsSchema<{ timestamp?: number | undefined }> = z
  .object({
    timestamp: z.number({ error: "must be a number" }).optional(),
  });
