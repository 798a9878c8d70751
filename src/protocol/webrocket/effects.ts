/**
 * The WebRocket dialect's own effects and inputs: a broadcast goes only to a
 * channel that exists (someone subscribed to it, or something was
 * published to it), which the engine is asked first; and a user who
 * authenticates is held to `MAX_CONNECTIONS_PER_USER` (SPEC §12), which only
 * the shell can count.
 *
 * @module
 */

import type { NewMessage } from "../message.ts";

/** An effect only the WebRocket reducer asks for. */
export type WebRocketEffect =
  | {
    /** Publish `message` if its channel exists; else feed `channelNotFound` back. */
    readonly kind: "broadcastToExisting";
    /** What to publish. */
    readonly message: NewMessage;
    /** The broadcast it answers. */
    readonly requestId: number;
  }
  | {
    /** May this socket become one of `user`'s? Feeds `userAdmitted` back. */
    readonly kind: "admitUser";
    /** The user whose credentials were right. */
    readonly user: string;
  };

/** An input only the WebRocket reducer reads. */
export type WebRocketInput =
  | {
    /** The channel of a `broadcastToExisting` effect does not exist. */
    readonly kind: "channelNotFound";
    /** The broadcast it answers. */
    readonly requestId: number;
  }
  | {
    /** The answer to `admitUser`. */
    readonly kind: "userAdmitted";
    /** The user asked about. */
    readonly user: string;
    /** The user already has `MAX_CONNECTIONS_PER_USER` sockets on this node. */
    readonly overUserLimit: boolean;
  };
