/**
 * The server API's commands, carried out on this node's connections (SPEC
 * §9): a `notification` to every authenticated connection (or those of the
 * listed users), or every connection of one user closed with 4003. The
 * engine brings them here from whichever node received the request.
 *
 * @module
 */

import type { ControlCommand } from "../engine/engine.ts";
import { log } from "../log.ts";
import { CloseCode } from "../protocol/close_codes.ts";
import { type Framing, noticeFrame } from "../protocol/notices.ts";

const logger = log("control");

/** What a command acts on: a connection, as `Connection` is one. */
export interface Controlled {
  /** The token's `sub`, or `null` before `auth`. */
  readonly user: string | null;
  /** How its protocol frames a notice; `undefined` for the native one. */
  readonly framing: Framing | undefined;
  /** Sends a frame that is never dropped. */
  notify(frame: string): void;
  /** Closes the socket. */
  close(code: number, reason: string): void;
}

/**
 * Carries out `command` on `connections`.
 *
 * @example
 * ```ts
 * import { carryOut } from "./control.ts";
 *
 * const alice = {
 *   user: "alice",
 *   framing: undefined,
 *   notify: (frame: string) => console.log(frame),
 *   close: (code: number) => console.log(code),
 * };
 * carryOut({ kind: "disconnect", user: "alice", reason: "bye" }, [alice]); // 4003
 * ```
 */
export function carryOut(
  command: ControlCommand,
  connections: Iterable<Controlled>,
): void {
  if (command.kind === "notify") {
    const users = command.users === undefined
      ? undefined
      : new Set(command.users);
    for (const connection of connections) {
      const { user } = connection;
      if (user !== null && (users === undefined || users.has(user))) {
        const frame = noticeFrame(connection.framing, command.notice);
        if (frame === null) continue;
        try {
          connection.notify(frame);
        } catch {
          // A socket that cannot take it any more: the others still do.
        }
      }
    }
    return;
  }
  // Closing removes a connection from the set: close a copy's worth.
  const leaving = [...connections].filter((connection) =>
    connection.user === command.user
  );
  if (leaving.length > 0) {
    logger.info("disconnecting {user} ({count} connections): {reason}", {
      user: command.user,
      count: leaving.length,
      reason: command.reason,
    });
  }
  for (const connection of leaving) {
    connection.close(CloseCode.DisconnectedByServer, command.reason);
  }
}
