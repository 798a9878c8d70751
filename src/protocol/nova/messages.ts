/**
 * What a Nova viewer may send: `pong`, `get_stream_info` and
 * `report_issue`, each `{"event", "data"}`. Anything else (invalid JSON, a
 * missing field, an unknown event) is a protocol error: the document closes
 * the socket with 1003.
 *
 * @module
 */

import { isRecord } from "../schema.ts";

/** A viewer's message, understood. */
export type ViewerMessage =
  /** The answer to a `ping`; the document's own client sends no `sequence`. */
  | { readonly event: "pong"; readonly sequence: number | null }
  /** Asks for `stream_info`, echoing `request_id`. */
  | { readonly event: "get_stream_info"; readonly requestId: string | number }
  /** A playback issue, logged and sent to the back-end. */
  | {
    readonly event: "report_issue";
    readonly report: Readonly<Record<string, unknown>>;
  };

/** A viewer's message, or why it is not one. */
export type DecodedMessage =
  | { readonly ok: true; readonly message: ViewerMessage }
  | { readonly ok: false; readonly reason: string };

function refused(reason: string): DecodedMessage {
  return { ok: false, reason };
}

/**
 * Decodes a viewer's text frame.
 *
 * @example
 * ```ts
 * import { decodeMessage } from "./messages.ts";
 *
 * decodeMessage('{"event":"pong","data":{"timestamp":"2025-10-21T10:50:00.500Z"}}');
 * // { ok: true, message: { event: "pong", sequence: null } }
 * decodeMessage('{"event":"dance","data":{}}'); // { ok: false, reason: 'unknown event "dance"' }
 * ```
 */
export function decodeMessage(text: string): DecodedMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return refused("invalid JSON");
  }
  if (!isRecord(value)) return refused("a message must be a JSON object");
  const { event, data } = value;
  if (typeof event !== "string") return refused("event must be a string");
  if (data !== undefined && !isRecord(data)) {
    return refused("data must be an object");
  }
  const fields = data ?? {};
  switch (event) {
    case "pong": {
      const { sequence } = fields;
      if (sequence !== undefined && !Number.isSafeInteger(sequence)) {
        return refused("pong: sequence must be a whole number");
      }
      return {
        ok: true,
        message: {
          event,
          sequence: typeof sequence === "number" ? sequence : null,
        },
      };
    }
    case "get_stream_info": {
      const requestId = fields.request_id;
      if (typeof requestId !== "string" && typeof requestId !== "number") {
        return refused("get_stream_info: data.request_id is required");
      }
      return { ok: true, message: { event, requestId } };
    }
    case "report_issue": {
      const { issue_type: type, severity, description, client_info: info } =
        fields;
      if (typeof type !== "string" || typeof severity !== "string") {
        return refused(
          "report_issue: data.issue_type and data.severity are required",
        );
      }
      if (description !== undefined && typeof description !== "string") {
        return refused("report_issue: data.description must be a string");
      }
      if (info !== undefined && !isRecord(info)) {
        return refused("report_issue: data.client_info must be an object");
      }
      return { ok: true, message: { event, report: fields } };
    }
    default:
      return refused(`unknown event ${JSON.stringify(event.slice(0, 64))}`);
  }
}
