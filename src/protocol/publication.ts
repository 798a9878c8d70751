/**
 * Validation of a publish, shared by the WebSocket `publish` method and REST
 * `POST /publish`, so both accept exactly the same messages.
 *
 * @module
 */

import { isChannel, isPattern } from "./channel.ts";
import { fail, ok, type ProtocolError, type Result } from "./errors.ts";
import type { NewMessage } from "./message.ts";
import { decodeParams, type ParamsSource, PublishParams } from "./schema.ts";
import { utf8ByteLength } from "./size.ts";

/** Longest excerpt of client input quoted back in an error message. */
const QUOTE_LIMIT = 64;

/** Quotes client input in an error message, shortened so errors stay small. */
export function quote(text: string): string {
  const excerpt = text.length > QUOTE_LIMIT
    ? `${text.slice(0, QUOTE_LIMIT)}…`
    : text;
  return JSON.stringify(excerpt);
}

/** The `InvalidArgument` for a malformed channel name. */
export function invalidChannel(channel: string): ProtocolError {
  return {
    code: "InvalidArgument",
    message: isPattern(channel)
      ? `${quote(channel)} is a pattern: only subscribe takes one`
      : `invalid channel name ${quote(channel)}`,
  };
}

/**
 * The fields of well-formed publish params, or `null` for anything else.
 * Every publish takes this path; only a malformed one goes through the
 * schema (`PublishParams`), which accepts exactly the same and explains why
 * not. Their agreement is tested.
 */
function wellFormed(
  params: unknown,
): { channel: string; event: string; payload: unknown } | null {
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    return null;
  }
  const { channel, event, payload } = params as Record<string, unknown>;
  if (typeof channel !== "string" || typeof event !== "string") return null;
  if (event === "") return null;
  // A missing payload is `null`, as the schema makes it.
  return { channel, event, payload: payload ?? null };
}

/**
 * Validates publish params into a {@linkcode NewMessage}: shape, channel name,
 * then size. The payload is serialised here, once, for every later use.
 *
 * @example
 * ```ts
 * import { newMessageFrom } from "./publication.ts";
 *
 * const result = newMessageFrom({ channel: "room1", event: "hi", payload: 1 }, 65536);
 * ```
 */
export function newMessageFrom(
  params: unknown,
  maxPayloadBytes: number,
  source: ParamsSource = "params",
): Result<NewMessage> {
  const fields = wellFormed(params);
  let channel: string, event: string, payload: unknown;
  if (fields !== null) {
    ({ channel, event, payload } = fields);
  } else {
    // The schema names what is wrong.
    const decoded = decodeParams(PublishParams, params, source);
    if (!decoded.ok) return decoded;
    ({ channel, event, payload } = decoded.value);
  }
  if (!isChannel(channel)) {
    return { ok: false, error: invalidChannel(channel) };
  }
  const payloadJson = JSON.stringify(payload);
  // Every UTF-16 unit is at most 3 UTF-8 bytes: count exactly only when it could matter.
  if (payloadJson.length * 3 > maxPayloadBytes) {
    const bytes = utf8ByteLength(payloadJson);
    if (bytes > maxPayloadBytes) {
      return fail(
        "InvalidArgument",
        `payload is ${bytes} bytes, over the limit of ${maxPayloadBytes}`,
      );
    }
  }
  return ok({ channel, event, payloadJson });
}
