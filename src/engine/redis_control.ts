/**
 * The server API's commands between nodes (SPEC §9): published as JSON on
 * one topic every node of an app subscribes to (`RedisNames.control`), and read back with care, since a
 * topic can carry anything anyone publishes.
 *
 * @module
 */

import type { ControlCommand, NotificationNotice } from "./engine.ts";

/**
 * A command read back from its JSON, or `null` for anything else.
 *
 * @example
 * ```ts
 * import { controlOf } from "./redis_control.ts";
 *
 * controlOf('{"kind":"disconnect","user":"alice","reason":"bye"}');
 * // { kind: "disconnect", user: "alice", reason: "bye" }
 * controlOf("nonsense"); // null
 * ```
 */
export function controlOf(text: string): ControlCommand | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const { kind, notice, users, user, reason } = value as Record<
    string,
    unknown
  >;
  if (kind === "notify" && isNotification(notice)) {
    if (users === undefined) return { kind, notice };
    return Array.isArray(users) &&
        users.every((name) => typeof name === "string")
      ? { kind, notice, users }
      : null;
  }
  if (
    kind === "disconnect" && typeof user === "string" &&
    typeof reason === "string"
  ) {
    return { kind, user, reason };
  }
  return null;
}

/** Whether `value` is a notification notice as another node sent it. */
function isNotification(value: unknown): value is NotificationNotice {
  if (typeof value !== "object" || value === null) return false;
  const { kind, event, payloadJson, createTime } = value as Record<
    string,
    unknown
  >;
  return kind === "notification" && typeof event === "string" &&
    typeof payloadJson === "string" && typeof createTime === "string";
}
