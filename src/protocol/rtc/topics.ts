/**
 * Topics of the Real-time Communication Service protocol and the channels
 * they name: `chat.general` is the channel `chat:general`, and a topic with
 * wildcard segments (`updates.*`, `updates.>`) is a pattern subscription
 * (SPEC §9, §11). Channel segments never hold a dot, so the mapping goes
 * both ways without loss.
 *
 * @module
 */

import { isChannel, isPattern } from "../channel.ts";

/** A topic, understood: the channel or pattern it names. */
export interface Topic {
  /** As the client wrote it, e.g. `updates.*`. */
  readonly topic: string;
  /** The channel (`chat:general`) or pattern (`updates:*`). */
  readonly channel: string;
  /** Whether it is a pattern. */
  readonly pattern: boolean;
}

/**
 * The channel or pattern a topic names; `null` for anything that is not a
 * topic: empty or malformed segments, a `:`, or a personal channel (`#…`:
 * direct messages arrive without subscribing).
 *
 * @example
 * ```ts
 * import { topicOf } from "./topics.ts";
 *
 * topicOf("chat.general"); // { topic: "chat.general", channel: "chat:general", pattern: false }
 * topicOf("updates.*"); // { topic: "updates.*", channel: "updates:*", pattern: true }
 * topicOf("chat:general"); // null
 * ```
 */
export function topicOf(topic: string): Topic | null {
  if (topic.includes(":") || topic.startsWith("#")) return null;
  const channel = topic.replaceAll(".", ":");
  if (isChannel(channel)) return { topic, channel, pattern: false };
  if (isPattern(channel)) return { topic, channel, pattern: true };
  return null;
}

/**
 * The topic a channel is known by to clients of this protocol.
 *
 * @example
 * ```ts
 * import { topicOfChannel } from "./topics.ts";
 *
 * topicOfChannel("chat:general"); // "chat.general"
 * ```
 */
export function topicOfChannel(channel: string): string {
  return channel.replaceAll(":", ".");
}
