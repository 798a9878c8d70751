/**
 * What the server tells many connections at once besides broadcasts: presence
 * changes (`join`, `leave`, `occupancy`, SPEC §8) and the server API's
 * notifications (§9). A notice is data; each wire protocol frames it its own
 * way ({@linkcode Framing}), once per notice, whatever the number of
 * connections it goes to.
 *
 * @module
 */

import type { Message } from "./message.ts";

/** One thing to tell the observers of a channel, or the connections of some users. */
export type Notice =
  /** A user's first connection subscribed to `channel`; `info` is JSON text. */
  | {
    readonly kind: "join";
    readonly channel: string;
    readonly user: string;
    readonly info?: string;
    /** When this node heard of it, epoch ms. */
    readonly at: number;
  }
  /** A user's last connection left `channel` and did not come back within the delay. */
  | {
    readonly kind: "leave";
    readonly channel: string;
    readonly user: string;
    /** When this node heard of it, epoch ms. */
    readonly at: number;
  }
  /** The counts of `channel` changed (batched). */
  | {
    readonly kind: "occupancy";
    readonly channel: string;
    readonly connections: number;
    readonly users: number;
    readonly peak: number;
    readonly change: number;
  }
  /** The server API's `/notify`: not stored, never dropped. */
  | {
    readonly kind: "notification";
    readonly event: string;
    readonly payloadJson: string;
    readonly createTime: string;
  };

/**
 * How one wire protocol frames what is fanned out. Each method is called
 * for every recipient of its protocol and must return the same text for the
 * same object: implementations remember their last answer
 * ({@linkcode lastOf}), so a message is serialised once per protocol, not
 * once per recipient. The native protocol has none: its broadcasts carry a
 * per-subscription `seq` the hub splices in.
 */
export interface Framing {
  /** The frame of a broadcast. */
  broadcast(message: Message): string;
  /** The frame of a notice, or `null` when the protocol has none for it. */
  notice(notice: Notice): string | null;
}

/**
 * `build`, remembering its last answer: called again with the same object,
 * it answers at once. One slot is enough, since a fan-out hands every
 * recipient the same object before the next one comes.
 *
 * @example
 * ```ts
 * import { lastOf } from "./notices.ts";
 *
 * const frameOf = lastOf((value: { n: number }) => JSON.stringify(value));
 * const value = { n: 1 };
 * frameOf(value) === frameOf(value); // true, built once
 * ```
 */
export function lastOf<T extends object, R>(
  build: (value: T) => R,
): (value: T) => R {
  let last: T | undefined;
  let answer: R;
  return (value) => {
    if (value !== last) {
      answer = build(value);
      last = value;
    }
    return answer;
  };
}

/** A notice as the native protocol frames it (`{"method", "params"}`). */
function nativeFrame(notice: Notice): string {
  switch (notice.kind) {
    case "join": {
      const info = notice.info === undefined ? "" : `,"info":${notice.info}`;
      return `{"method":"join","params":{"channel":${
        JSON.stringify(notice.channel)
      },"user":${JSON.stringify(notice.user)}${info}}}`;
    }
    case "leave":
      return `{"method":"leave","params":{"channel":${
        JSON.stringify(notice.channel)
      },"user":${JSON.stringify(notice.user)}}}`;
    case "occupancy":
      return `{"method":"occupancy","params":{"channel":${
        JSON.stringify(notice.channel)
      },"connections":${notice.connections},"users":${notice.users},"peak":${notice.peak},"change":${notice.change}}}`;
    case "notification":
      return `{"method":"notification","params":{"event":${
        JSON.stringify(notice.event)
      },"payload":${notice.payloadJson},"createTime":${
        JSON.stringify(notice.createTime)
      }}}`;
  }
}

/** {@linkcode nativeFrame}, built once per notice. */
const nativeNotice = lastOf(nativeFrame);

/**
 * The frame of `notice` for a connection of `framing`'s protocol (the
 * native one when `undefined`); `null` when that protocol has none.
 *
 * @example
 * ```ts
 * import { noticeFrame } from "./notices.ts";
 *
 * noticeFrame(undefined, { kind: "leave", channel: "room1", user: "bob", at: 0 });
 * // '{"method":"leave","params":{"channel":"room1","user":"bob"}}'
 * ```
 */
export function noticeFrame(
  framing: Framing | undefined,
  notice: Notice,
): string | null {
  return framing === undefined ? nativeNotice(notice) : framing.notice(notice);
}
