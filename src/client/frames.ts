/**
 * What the server sends a client, validated: a frame of another shape (or
 * `null`, or not JSON) is ignored rather than trusted, so no frame can throw
 * inside the client. Zero dependencies: this runs in browsers.
 *
 * @module
 */

import type { BroadcastParams } from "../protocol/frames.ts";
import type {
  JoinEvent,
  LeaveEvent,
  Notification,
  OccupancyEvent,
  Presence,
  PresenceMember,
  PresenceStats,
} from "./types.ts";

/** A server frame the client acts on. */
export type IncomingFrame =
  | { readonly kind: "broadcast"; readonly message: BroadcastParams }
  | { readonly kind: "tokenExpiring" }
  | { readonly kind: "unsubscribed"; readonly channel: string }
  | { readonly kind: "presence"; readonly notice: PresenceNotice }
  | { readonly kind: "notification"; readonly notification: Notification }
  | {
    readonly kind: "result";
    readonly requestId: number;
    readonly result: Readonly<Record<string, unknown>>;
  }
  | {
    readonly kind: "error";
    readonly requestId: number | undefined;
    readonly code: string;
    readonly message: string;
  };

/** A presence notification, validated. */
export type PresenceNotice =
  | { readonly kind: "join"; readonly event: JoinEvent }
  | { readonly kind: "leave"; readonly event: LeaveEvent }
  | { readonly kind: "occupancy"; readonly event: OccupancyEvent };

type Fields = Readonly<Record<string, unknown>>;

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value);
}

function noticeOf(method: string, params: unknown): PresenceNotice | null {
  if (!isRecord(params) || typeof params.channel !== "string") return null;
  const { channel, user, info } = params;
  if (method === "occupancy") {
    const { connections, users, peak, change } = params;
    return isCount(connections) && isCount(users) && isCount(peak) &&
        isCount(change)
      ? {
        kind: "occupancy",
        event: { channel, connections, users, peak, change },
      }
      : null;
  }
  if (typeof user !== "string") return null;
  if (method === "leave") return { kind: "leave", event: { channel, user } };
  return {
    kind: "join",
    event: isRecord(info) ? { channel, user, info } : { channel, user },
  };
}

function isRecord(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function broadcastOf(params: unknown): BroadcastParams | null {
  if (!isRecord(params)) return null;
  const { id, seq, createTime, channel, event } = params;
  if (
    typeof id !== "string" || typeof createTime !== "string" ||
    typeof channel !== "string" || typeof event !== "string" ||
    typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1
  ) {
    return null;
  }
  const { pattern, from } = params;
  return {
    id,
    seq,
    createTime,
    channel,
    event,
    payload: params.payload,
    ...(typeof pattern === "string" ? { pattern } : {}),
    ...(typeof from === "string" ? { from } : {}),
  };
}

function notificationOf(
  method: unknown,
  params: unknown,
): IncomingFrame | null {
  switch (method) {
    case "broadcast": {
      const message = broadcastOf(params);
      return message === null ? null : { kind: "broadcast", message };
    }
    case "tokenExpiring":
      return { kind: "tokenExpiring" };
    case "unsubscribed":
      return isRecord(params) && typeof params.channel === "string"
        ? { kind: "unsubscribed", channel: params.channel }
        : null;
    case "notification":
      return isRecord(params) && typeof params.event === "string" &&
          typeof params.createTime === "string"
        ? {
          kind: "notification",
          notification: {
            event: params.event,
            payload: params.payload,
            createTime: params.createTime,
          },
        }
        : null;
    case "join":
    case "leave":
    case "occupancy": {
      const notice = noticeOf(method, params);
      return notice === null ? null : { kind: "presence", notice };
    }
    default:
      return null;
  }
}

/**
 * The frame in `text`, or `null` when it is not one the client knows.
 *
 * @example
 * ```ts
 * import { parseServerFrame } from "./frames.ts";
 *
 * parseServerFrame('{"requestId":1,"result":{"success":true}}');
 * // { kind: "result", requestId: 1, result: { success: true } }
 * parseServerFrame("null"); // null
 * ```
 */
export function parseServerFrame(text: string): IncomingFrame | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(value)) return null;
  if ("method" in value) return notificationOf(value.method, value.params);
  const { requestId, result, error } = value;
  const id = typeof requestId === "number" ? requestId : undefined;
  if (isRecord(error)) {
    return {
      kind: "error",
      requestId: id,
      code: typeof error.code === "string" ? error.code : "Internal",
      message: typeof error.message === "string" ? error.message : "",
    };
  }
  if (id === undefined) return null;
  return {
    kind: "result",
    requestId: id,
    result: isRecord(result) ? result : {},
  };
}

/** `presenceStats`'s answer, typed. */
export function presenceStatsOf(
  result: Readonly<Record<string, unknown>>,
): PresenceStats {
  return {
    connections: Number(result.connections ?? 0),
    users: Number(result.users ?? 0),
  };
}

/** `presence`'s answer, typed; members of another shape are left out. */
export function presenceResultOf(
  result: Readonly<Record<string, unknown>>,
): Presence {
  const members: PresenceMember[] = [];
  for (const member of Array.isArray(result.members) ? result.members : []) {
    if (typeof member !== "object" || member === null) continue;
    const { user, connectionId, info } = member as Record<string, unknown>;
    if (typeof user !== "string" || typeof connectionId !== "string") continue;
    members.push(
      typeof info === "object" && info !== null && !Array.isArray(info)
        ? { user, connectionId, info: info as Record<string, unknown> }
        : { user, connectionId },
    );
  }
  return {
    ...presenceStatsOf(result),
    members,
    truncated: result.truncated === true,
  };
}
