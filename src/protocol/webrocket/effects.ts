/**
 * The WebRocket dialect's own effect and input: a broadcast goes only to a
 * channel that exists (someone subscribed to it, or something was
 * published to it), which the engine is asked first.
 *
 * @module
 */

import type { NewMessage } from "../message.ts";

/** An effect only the WebRocket reducer asks for. */
export type WebRocketEffect = {
  /** Publish `message` if its channel exists; else feed `channelNotFound` back. */
  readonly kind: "broadcastToExisting";
  /** What to publish. */
  readonly message: NewMessage;
  /** The broadcast it answers. */
  readonly requestId: number;
};

/** An input only the WebRocket reducer reads. */
export type WebRocketInput = {
  /** The channel of a `broadcastToExisting` effect does not exist. */
  readonly kind: "channelNotFound";
  /** The broadcast it answers. */
  readonly requestId: number;
};
