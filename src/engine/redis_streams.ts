/**
 * What the Redis engine keeps where: key names, the Lua scripts that publish
 * and read atomically, and stream entries turned back into messages.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { formatTimestamp, type Message } from "../protocol/message.ts";

/** Every key and pub/sub channel starts with this. */
export const PREFIX = "broadcaster";

// The channel in {braces}: a hash tag, so a channel's keys share one slot on Redis Cluster.
/** The stream holding a channel's history. */
export const streamKey = (channel: string): string =>
  `${PREFIX}:{${channel}}:stream`;
/** The counter numbering a channel's messages. */
export const positionKey = (channel: string): string =>
  `${PREFIX}:{${channel}}:position`;
/** The pub/sub channel a channel's messages travel on. */
export const topic = (channel: string): string => `${PREFIX}:live:${channel}`;
/** What every pub/sub channel of ours starts with. */
export const TOPIC_PREFIX = `${PREFIX}:live:`;

/** Redis's clock in ms, inside a script. */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * KEYS: stream, position. ARGV: maxlen, ttl ms, topic, body.
 * Returns {id, position}. Publishes `<id> <position> <body>`.
 */
const PUBLISH_SCRIPT = `${NOW}
local n = redis.call('INCR', KEYS[2])
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], '*', 'n', n, 'b', ARGV[4])
redis.call('XTRIM', KEYS[1], 'MINID', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PUBLISH', ARGV[3], id .. ' ' .. n .. ' ' .. ARGV[4])
return {id, n}`;

/**
 * KEYS: stream. ARGV: since id, ttl ms. The entries after `since`, or false
 * when `since` is not in the stream any more, or has expired: checked and
 * read in one step, so nothing can be trimmed in between.
 */
const SINCE_SCRIPT = `${NOW}
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then return false end
local ms = tonumber(string.match(ARGV[1], '^(%d+)'))
if ms == nil or ms <= now - tonumber(ARGV[2]) then return false end
return redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+')`;

/** KEYS: stream. ARGV: count, ttl ms. The newest unexpired entries, newest first. */
const HISTORY_SCRIPT = `${NOW}
return redis.call('XREVRANGE', KEYS[1], '+', tostring(now - tonumber(ARGV[2]) + 1), 'COUNT', ARGV[1])`;

/** What a script runs on: a Redis connection (ioredis's, structurally). */
export interface ScriptHost {
  /** Runs a cached script by its SHA1. */
  evalsha(
    sha: string,
    keyCount: number,
    ...keysAndArgs: string[]
  ): Promise<unknown>;
  /** Runs a script's text. */
  eval(
    source: string,
    keyCount: number,
    ...keysAndArgs: string[]
  ): Promise<unknown>;
}

/** A Lua script, run by its SHA1 so the text crosses the network only when Redis lacks it. */
export class Script {
  /** The Lua text. */
  readonly source: string;
  /** Its SHA1, as EVALSHA names it. */
  readonly sha: string;

  /** A script of `source`. */
  constructor(source: string) {
    this.source = source;
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  /** EVALSHA, falling back to EVAL after a Redis restart or failover (NOSCRIPT). */
  async run(
    redis: ScriptHost,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) {
        throw error;
      }
      return await redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** Numbers, stores and publishes a message, atomically. */
export const publishScript = new Script(PUBLISH_SCRIPT);
/** What came after an id, or nothing when that cannot be known. */
export const sinceScript = new Script(SINCE_SCRIPT);
/** The newest unexpired entries. */
export const historyScript = new Script(HISTORY_SCRIPT);

/** A stream entry as Redis returns it: id and flat field list. */
export type StreamEntry = [string, string[]];

/** Stream ids compare as (ms, sequence) pairs. */
export function compareIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split("-").map(Number);
  const [bMs = 0, bSeq = 0] = b.split("-").map(Number);
  return aMs - bMs || aSeq - bSeq;
}

/** A message from its pub/sub parts: id, position and `[event, payloadJson]` body. */
export function messageOf(
  channel: string,
  id: string,
  position: number,
  body: string,
): Message {
  const [event, payloadJson] = JSON.parse(body) as [string, string];
  return {
    id,
    channel,
    event,
    payloadJson,
    createTime: formatTimestamp(Number(id.split("-")[0])),
    position,
  };
}

/** A message from a stream entry. */
export function messageOfEntry(
  channel: string,
  [id, fields]: StreamEntry,
): Message {
  let position = 0;
  let body = '["",""]';
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === "n") position = Number(fields[i + 1]);
    if (fields[i] === "b") body = fields[i + 1] ?? body;
  }
  return messageOf(channel, id, position, body);
}

/**
 * A message as it arrives over pub/sub (`<id> <position> <body>` on the
 * channel's topic), or `null` for a topic that is not ours.
 */
export function liveMessage(topicName: string, text: string): Message | null {
  if (!topicName.startsWith(TOPIC_PREFIX)) return null;
  const firstSpace = text.indexOf(" ");
  const secondSpace = text.indexOf(" ", firstSpace + 1);
  return messageOf(
    topicName.slice(TOPIC_PREFIX.length),
    text.slice(0, firstSpace),
    Number(text.slice(firstSpace + 1, secondSpace)),
    text.slice(secondSpace + 1),
  );
}

/** What this node knows of one channel it listens to. */
export interface Listening {
  /** Resolves once listening has been attempted; never rejects (see `RedisEngine.listen`). */
  ready: Promise<void>;
  /** Whether the SUBSCRIBE took; if not, the next reconnect does it. */
  subscribed: boolean;
  /** The last id delivered to the hub (or the stream's end when listening began). */
  lastId: string | undefined;
  /** When listening began (epoch ms): where a catch-up starts if `lastId` is unknown. */
  readonly since: number;
  /** Live messages held back while the channel catches up from the stream. */
  held: Message[] | null;
}

/**
 * Delivers `message` to the hub unless it is not after the last one
 * delivered: live and caught-up messages meet in id order, each once.
 */
export function deliverOnce(
  listening: Listening,
  message: Message,
  deliver: (message: Message) => void,
): void {
  if (
    listening.lastId !== undefined &&
    compareIds(message.id, listening.lastId) <= 0
  ) return;
  listening.lastId = message.id;
  deliver(message);
}

/** Ends a catch-up: what was held back is delivered (a missed message shows as a jump in position). */
export function releaseHeld(
  listening: Listening,
  deliver: (message: Message) => void,
): void {
  const held = listening.held ?? [];
  listening.held = null;
  for (const message of held) deliverOnce(listening, message, deliver);
}
