/**
 * Every key and pub/sub channel Broadcaster uses in Redis, under one prefix
 * per app (SPEC §10): apps share a Redis without sharing a key. The default
 * app's prefix is `broadcaster`, as before apps existed; app `world`'s is
 * `broadcaster:app:world`.
 *
 * A channel's keys hold it in `{braces}`: a hash tag, so they share one slot
 * on Redis Cluster and its scripts may touch them together.
 *
 * @module
 */

/** The default app's prefix. */
export const DEFAULT_PREFIX = "broadcaster";

/**
 * The names of one app's keys and topics.
 *
 * @example
 * ```ts
 * import { RedisNames } from "./redis_names.ts";
 *
 * new RedisNames().stream("room1"); // "broadcaster:{room1}:stream"
 * RedisNames.forApp("world").topic("room1"); // "broadcaster:app:world:live:room1"
 * ```
 */
export class RedisNames {
  /** What every name starts with. */
  readonly prefix: string;
  /** What every channel's message topic starts with. */
  readonly topicPrefix: string;
  /** What every channel's presence topic starts with. */
  readonly presenceTopicPrefix: string;
  /** Where the server API's commands travel. */
  readonly control: string;

  /** Names under `prefix`. */
  constructor(prefix = DEFAULT_PREFIX) {
    this.prefix = prefix;
    this.topicPrefix = `${prefix}:live:`;
    this.presenceTopicPrefix = `${prefix}:presence:`;
    this.control = `${prefix}:control`;
  }

  /** The names of app `id`'s keys. */
  static forApp(id: string): RedisNames {
    return new RedisNames(`${DEFAULT_PREFIX}:app:${id}`);
  }

  /** The stream holding a channel's history; entry ids are `<offset>-0`. */
  stream(channel: string): string {
    return `${this.prefix}:{${channel}}:stream`;
  }

  /** The hash holding a channel's epoch (`e`) and offset (`n`). */
  meta(channel: string): string {
    return `${this.prefix}:{${channel}}:meta`;
  }

  /** The hash of a channel's latest message of each event it keeps (a Nova stream's state). */
  latest(channel: string): string {
    return `${this.prefix}:{${channel}}:latest`;
  }

  /** The pub/sub channel a channel's messages travel on. */
  topic(channel: string): string {
    return this.topicPrefix + channel;
  }

  /** The keys of a channel's presence, in the order every presence script takes them. */
  presenceKeys(channel: string): string[] {
    const base = `${this.prefix}:{${channel}}:presence`;
    return [
      base,
      `${base}:expiry`,
      `${base}:users`,
      `${base}:leaving`,
      `${base}:peak`,
    ];
  }

  /** The pub/sub channel a channel's presence events travel on. */
  presenceTopic(channel: string): string {
    return this.presenceTopicPrefix + channel;
  }

  /** A SCAN pattern for the presence keys of channels starting with `prefix`. */
  presenceKeysMatching(prefix: string): string {
    return `${this.prefix}:{${escapeGlob(prefix)}*}:presence`;
  }

  /** The channel of a members key (`<prefix>:{<channel>}:presence`), or `null`. */
  channelOfPresenceKey(key: string): string | null {
    const head = `${this.prefix}:{`;
    const tail = "}:presence";
    return key.startsWith(head) && key.endsWith(tail)
      ? key.slice(head.length, -tail.length)
      : null;
  }
}

/** `text` with the characters a Redis glob treats specially escaped. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (character) => `\\${character}`);
}
