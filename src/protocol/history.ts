/**
 * How many messages a history read returns, for the WebSocket `history`
 * method and REST `GET /history` alike.
 *
 * @module
 */

/**
 * The number of messages to read: `requested`, or all of history when none
 * was asked for, never more than `historySize` (`HISTORY_SIZE`).
 *
 * @example
 * ```ts
 * import { historyLimit } from "./history.ts";
 *
 * historyLimit(undefined, 100); // 100
 * historyLimit(500, 100); // 100
 * historyLimit(10, 100); // 10
 * ```
 */
export function historyLimit(
  requested: number | undefined,
  historySize: number,
): number {
  return Math.min(requested ?? historySize, historySize);
}
