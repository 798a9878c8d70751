/**
 * Frames the server writes, the builders that give them their exact shape,
 * and their encoding to text.
 *
 * Key order matters to nobody's parser but is kept stable for humans reading
 * logs and captures: `requestId` first, then `result` or `error`.
 *
 * @module
 */

import type { ProtocolError } from "./errors.ts";

/** A successful response to a request that had an `id`. */
export interface ResultFrame {
  /** The `id` of the request answered. */
  readonly requestId: number;
  /** The method's result. */
  readonly result: Readonly<Record<string, unknown>>;
}

/**
 * A successful response whose result is JSON text already (history: the
 * payloads are spliced in as they were stored, never parsed again).
 */
export interface RawResultFrame {
  /** The `id` of the request answered. */
  readonly requestId: number;
  /** The method's result as JSON text. */
  readonly resultJson: string;
}

/** An error; `requestId` is absent when the request was a notification or had no usable id. */
export interface ErrorFrame {
  /** The `id` of the request answered, if it had one. */
  readonly requestId?: number;
  /** What went wrong. */
  readonly error: ProtocolError;
}

/** A server-initiated notification such as `unsubscribed` (broadcasts are built by the hub). */
export interface NotificationFrame {
  /** The notification, e.g. `unsubscribed`. */
  readonly method: string;
  /** Its parameters. */
  readonly params: Readonly<Record<string, unknown>>;
}

/**
 * The params of a `broadcast` notification, as the hub writes them (in this
 * key order, `seq` spliced per recipient) and clients read them.
 */
export interface BroadcastParams {
  /** Opaque, unique cluster-wide. */
  readonly id: string;
  /** Per subscription, from 1; a jump means messages were dropped. */
  readonly seq: number;
  /** RFC 3339 in UTC with milliseconds. */
  readonly createTime: string;
  /** The channel it was published to. */
  readonly channel: string;
  /** The publisher's event name. */
  readonly event: string;
  /** The publisher's payload, any JSON value. */
  readonly payload: unknown;
  /** The pattern subscription it came through (`updates:*`), if any (SPEC §9). */
  readonly pattern?: string;
  /** The sender of a direct message (a client's publish to a personal channel). */
  readonly from?: string;
}

/** Any frame the reducer asks the shell to send. */
export type ServerFrame =
  | ResultFrame
  | RawResultFrame
  | ErrorFrame
  | NotificationFrame;

/** A result frame for `requestId`. */
export function resultFrame(
  requestId: number,
  result: Readonly<Record<string, unknown>>,
): ResultFrame {
  return { requestId, result };
}

/** An error frame; without `requestId` when there is none to answer. */
export function errorFrame(
  requestId: number | undefined,
  error: ProtocolError,
): ErrorFrame {
  return requestId === undefined ? { error } : { requestId, error };
}

/** A server notification frame. */
export function notificationFrame(
  method: string,
  params: Readonly<Record<string, unknown>>,
): NotificationFrame {
  return { method, params };
}

/**
 * The text of a frame, as it goes on the wire.
 *
 * @example
 * ```ts
 * import { encodeFrame, resultFrame } from "./frames.ts";
 *
 * encodeFrame(resultFrame(1, { success: true })); // '{"requestId":1,"result":{"success":true}}'
 * encodeFrame({ requestId: 2, resultJson: '{"messages":[]}' }); // '{"requestId":2,"result":{"messages":[]}}'
 * ```
 */
export function encodeFrame(frame: ServerFrame): string {
  return "resultJson" in frame
    ? `{"requestId":${frame.requestId},"result":${frame.resultJson}}`
    : JSON.stringify(frame);
}
