/**
 * Frames the server writes, and the builders that give them their exact shape.
 *
 * Key order matters to nobody's parser but is kept stable for humans reading
 * logs and captures: `requestId` first, then `result` or `error`.
 *
 * @module
 */

import type { ProtocolError } from "./errors.ts";

/** A successful response to a request that had an `id`. */
export interface ResultFrame {
  readonly requestId: number;
  readonly result: Readonly<Record<string, unknown>>;
}

/** An error; `requestId` is absent when the request was a notification or had no usable id. */
export interface ErrorFrame {
  readonly requestId?: number;
  readonly error: ProtocolError;
}

/** A server-initiated notification such as `unsubscribed` (broadcasts are built by the hub). */
export interface NotificationFrame {
  readonly method: string;
  readonly params: Readonly<Record<string, unknown>>;
}

/** Any frame the reducer asks the shell to send. */
export type ServerFrame = ResultFrame | ErrorFrame | NotificationFrame;

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
