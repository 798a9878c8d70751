/**
 * What the Redis engine keeps in its keys (named by `redis_names.ts`): the
 * Lua scripts that publish and read atomically, and stream entries turned
 * back into messages.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { formatTimestamp, type Message } from "../protocol/message.ts";
import type { StreamPosition } from "../protocol/position.ts";

/** Redis's clock in ms, inside a script. */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * The channel's epoch, begun with the caller's candidate when the meta hash
 * is missing (never created, or lost with a flush or a restart without
 * persistence). A new epoch empties the stream: entries of an earlier life
 * must not be read as this one's.
 */
const EPOCH = (keys: string, candidate: string) =>
  `local e = redis.call('HGET', ${keys}[2], 'e')
if not e then
  e = ${candidate}
  redis.call('DEL', ${keys}[1])
  redis.call('HSET', ${keys}[2], 'e', e, 'n', 0)
end`;

/** The offset in a stream entry id `<offset>-0`. */
const OFFSET_OF =
  `local function offset_of(id) return tonumber(string.match(id, '^(%d+)')) end`;

/**
 * KEYS: stream, meta, latest. ARGV: maxlen, ttl ms, meta ttl ms, topic,
 * body, epoch candidate, event ('' unless the channel keeps its latest).
 * Numbers the message, appends it, trims what expired, keeps it as its
 * event's latest when asked, and publishes `<epoch>-<offset> <ms> <body>`.
 * Returns {epoch, offset, ms}.
 */
const PUBLISH_SCRIPT = `${NOW}
${OFFSET_OF}
${EPOCH("KEYS", "ARGV[6]")}
local n = redis.call('HINCRBY', KEYS[2], 'n', 1)
redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], n .. '-0', 't', now, 'b', ARGV[5])
local cutoff = now - tonumber(ARGV[2])
local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 8)
local expired = nil
for i = 1, #oldest do
  if tonumber(oldest[i][2][2]) > cutoff then break end
  expired = offset_of(oldest[i][1])
end
if expired then redis.call('XTRIM', KEYS[1], 'MINID', (expired + 1) .. '-0') end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
local text = e .. '-' .. n .. ' ' .. now .. ' ' .. ARGV[5]
if ARGV[7] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[7], text)
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
end
redis.call('PUBLISH', ARGV[4], text)
return {e, n, now}`;

/**
 * KEYS: stream, meta. ARGV: ttl ms, meta ttl ms, epoch candidate, since
 * epoch ('' for none), since offset, limit. Returns {epoch, offset,
 * recovered (0/1), entries after since (at most limit, unexpired)}: the
 * position and the messages in one step, so they agree.
 */
const READ_SCRIPT = `${NOW}
${OFFSET_OF}
${EPOCH("KEYS", "ARGV[3]")}
local n = tonumber(redis.call('HGET', KEYS[2], 'n'))
redis.call('PEXPIRE', KEYS[2], ARGV[2])
if ARGV[4] ~= e then return {e, n, 0, {}} end
local after = tonumber(ARGV[5])
if after >= n then return {e, n, after == n and 1 or 0, {}} end
local cutoff = now - tonumber(ARGV[1])
local start = after + 1
while true do
  local entries = redis.call('XRANGE', KEYS[1], start .. '-0', '+', 'COUNT', ARGV[6])
  local first = 1
  while first <= #entries and tonumber(entries[first][2][2]) <= cutoff do first = first + 1 end
  if first <= #entries or #entries < tonumber(ARGV[6]) then
    local kept = {}
    for i = first, #entries do kept[#kept + 1] = entries[i] end
    local recovered = 0
    if #kept > 0 and offset_of(kept[1][1]) == after + 1 then recovered = 1 end
    return {e, n, recovered, kept}
  end
  start = offset_of(entries[#entries][1]) + 1
end`;

/**
 * KEYS: stream, meta. ARGV: count, ttl ms. Returns {epoch, the newest
 * unexpired entries, newest first}; {'', {}} for a channel without a stream.
 */
const HISTORY_SCRIPT = `${NOW}
local e = redis.call('HGET', KEYS[2], 'e')
if not e then return {'', {}} end
local cutoff = now - tonumber(ARGV[2])
local entries = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', ARGV[1])
local kept = {}
for i = 1, #entries do
  if tonumber(entries[i][2][2]) <= cutoff then break end
  kept[#kept + 1] = entries[i]
end
return {e, kept}`;

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
/** A stream's position, and what came after a position. */
export const readScript = new Script(READ_SCRIPT);
/** The newest unexpired entries. */
export const historyScript = new Script(HISTORY_SCRIPT);

/** A stream entry as Redis returns it: id (`<offset>-0`) and flat field list `t, ms, b, body`. */
export type StreamEntry = [string, string[]];

/** A message from its parts: epoch, offset, creation ms and `[event, payloadJson]` body. */
export function messageOf(
  channel: string,
  epoch: string,
  offset: number,
  milliseconds: number,
  body: string,
): Message {
  const [event, payloadJson, from] = JSON.parse(body) as [
    string,
    string,
    string?,
  ];
  return {
    id: `${epoch}-${offset}`,
    channel,
    event,
    payloadJson,
    createTime: formatTimestamp(milliseconds),
    epoch,
    offset,
    from,
  };
}

/** A message from a stream entry of `epoch`. */
export function messageOfEntry(
  channel: string,
  epoch: string,
  [id, fields]: StreamEntry,
): Message {
  let milliseconds = 0;
  let body = '["",""]';
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === "t") milliseconds = Number(fields[i + 1]);
    if (fields[i] === "b") body = fields[i + 1] ?? body;
  }
  return messageOf(channel, epoch, parseInt(id, 10), milliseconds, body);
}

/**
 * A message as it arrives over pub/sub (`<epoch>-<offset> <ms> <body>` on
 * the channel's topic, which starts with `topicPrefix`), or `null` for a
 * topic that is not ours.
 */
export function liveMessage(
  topicPrefix: string,
  topicName: string,
  text: string,
): Message | null {
  if (!topicName.startsWith(topicPrefix)) return null;
  return messageOfText(topicName.slice(topicPrefix.length), text);
}

/**
 * A message of `channel` from its text `<epoch>-<offset> <ms> <body>`, as
 * it travels over pub/sub and is kept as a channel's latest; `null` for
 * anything else.
 */
export function messageOfText(channel: string, text: string): Message | null {
  const dash = text.indexOf("-");
  const firstSpace = text.indexOf(" ", dash);
  const secondSpace = text.indexOf(" ", firstSpace + 1);
  if (dash < 0 || firstSpace < 0 || secondSpace < 0) return null;
  return messageOf(
    channel,
    text.slice(0, dash),
    Number(text.slice(dash + 1, firstSpace)),
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
  /**
   * The position of the last message delivered to the hub (or the stream's
   * when listening began); `null` until known.
   */
  last: StreamPosition | null;
  /** Live messages held back while the channel catches up from the stream. */
  held: Message[] | null;
}

/**
 * Delivers `message` to the hub unless it is not after the last one
 * delivered: live and caught-up messages meet in offset order, each once.
 */
export function deliverOnce(
  listening: Listening,
  message: Message,
  deliver: (message: Message) => void,
): void {
  const last = listening.last;
  if (
    last !== null && last.epoch === message.epoch &&
    message.offset <= last.offset
  ) return;
  listening.last = message;
  deliver(message);
}

/** Ends a catch-up: what was held back is delivered (a missed message shows as a jump in offset). */
export function releaseHeld(
  listening: Listening,
  deliver: (message: Message) => void,
): void {
  const held = listening.held ?? [];
  listening.held = null;
  for (const message of held) deliverOnce(listening, message, deliver);
}
