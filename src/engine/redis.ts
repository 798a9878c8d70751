/**
 * The Redis engine (`ENGINE=redis`): several nodes share one Redis.
 *
 * A publish is one Lua script, so it is atomic: it numbers the message in its
 * channel, appends it to the channel's stream (capped to `HISTORY_SIZE`,
 * trimmed to `HISTORY_TTL_SECONDS`) and publishes it to the nodes that listen.
 * History order and live order are therefore the same on every node, and ids
 * and creation times come from Redis's clock, not from the nodes'.
 *
 * A node subscribes (pub/sub) only to channels it has local subscribers for.
 * When its pub/sub connection drops and comes back, it catches each channel
 * up from the stream, after the last id it delivered; what the stream no
 * longer has shows as a jump in position, which the hub turns into a `seq` gap.
 *
 * While Redis is unreachable, publishes fail at once (no offline queue, no
 * silent resend), `healthy` is false, and both connections reconnect with
 * capped exponential backoff.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { log } from "../log.ts";
import {
  formatTimestamp,
  type Message,
  type NewMessage,
} from "../protocol/message.ts";
import { type Deliver, type Engine, EngineUnavailableError } from "./engine.ts";

const logger = log("redis");

/** Every key and pub/sub channel starts with this. */
const PREFIX = "broadcaster";

/** Longest wait for one command before it fails: a hung Redis must not hang publishers. */
const COMMAND_TIMEOUT_MS = 5_000;

/** How often a catch-up is tried before the gap is left to show in `seq`. */
const CATCH_UP_ATTEMPTS = 10;

/** Reconnection backoff: 100 ms doubling up to 3 s, with jitter. */
function retryDelay(attempt: number): number {
  const capped = Math.min(3_000, 100 * 2 ** Math.min(attempt, 10));
  return Math.round(capped / 2 + Math.random() * (capped / 2));
}

// The channel in {braces}: a hash tag, so a channel's keys share one slot on Redis Cluster.
const streamKey = (channel: string) => `${PREFIX}:{${channel}}:stream`;
const positionKey = (channel: string) => `${PREFIX}:{${channel}}:position`;
const topic = (channel: string) => `${PREFIX}:live:${channel}`;
const TOPIC_PREFIX = `${PREFIX}:live:`;

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

/** A Lua script, run by its SHA1 so the text crosses the network only when Redis lacks it. */
class Script {
  readonly source: string;
  readonly sha: string;

  constructor(source: string) {
    this.source = source;
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  /** EVALSHA, falling back to EVAL after a Redis restart or failover (NOSCRIPT). */
  async run(
    redis: Redis,
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

const publishScript = new Script(PUBLISH_SCRIPT);
const sinceScript = new Script(SINCE_SCRIPT);
const historyScript = new Script(HISTORY_SCRIPT);

/** A stream entry as Redis returns it: id and flat field list. */
type StreamEntry = [string, string[]];

/** Stream ids compare as (ms, sequence) pairs. */
function compareIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split("-").map(Number);
  const [bMs = 0, bSeq = 0] = b.split("-").map(Number);
  return aMs - bMs || aSeq - bSeq;
}

function messageOf(
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

function messageOfEntry(channel: string, [id, fields]: StreamEntry): Message {
  let position = 0;
  let body = '["",""]';
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === "n") position = Number(fields[i + 1]);
    if (fields[i] === "b") body = fields[i + 1] ?? body;
  }
  return messageOf(channel, id, position, body);
}

/** What this node knows of one channel it listens to. */
interface Listening {
  /** Resolves once listening has been attempted; never rejects (see {@linkcode RedisEngine.listen}). */
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

/** Options of {@linkcode RedisEngine}. */
export interface RedisEngineOptions {
  /** `redis://` or `rediss://`, with password if any. */
  readonly url: string;
  /** Receives every message of the channels this node listens to: the hub. */
  readonly deliver: Deliver;
  /** `HISTORY_SIZE`: entries kept per channel stream. */
  readonly historySize: number;
  /** `HISTORY_TTL_SECONDS`: how long entries are kept. */
  readonly historyTtlSeconds: number;
}

/**
 * Messages through Redis streams and pub/sub.
 *
 * @example
 * ```ts
 * import { Hub } from "../hub/hub.ts";
 * import { RedisEngine } from "./redis.ts";
 *
 * // Needs a Redis server, so the doc test only defines it.
 * async function startOnRedis(hub: Hub): Promise<RedisEngine> {
 *   const engine = new RedisEngine({
 *     url: "redis://127.0.0.1:6379",
 *     deliver: (message) => hub.deliver(message),
 *     historySize: 100,
 *     historyTtlSeconds: 300,
 *   });
 *   await engine.start(5_000);
 *   return engine;
 * }
 * ```
 */
export class RedisEngine implements Engine {
  readonly #commands: Redis;
  readonly #subscriber: Redis;
  readonly #deliver: Deliver;
  readonly #maxLength: string;
  readonly #ttlMs: string;
  readonly #channels = new Map<string, Listening>();
  #subscriberWasReady = false;
  #closed = false;

  /** Connects (lazily, with backoff) to `options.url`; `start` waits for it. */
  constructor(options: RedisEngineOptions) {
    this.#deliver = options.deliver;
    this.#maxLength = String(options.historySize);
    this.#ttlMs = String(options.historyTtlSeconds * 1000);
    const common = {
      retryStrategy: retryDelay,
      // Fail at once while disconnected, and never resend a publish that may have run.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
    };
    this.#commands = new Redis(options.url, {
      ...common,
      connectionName: "broadcaster",
    });
    this.#subscriber = new Redis(options.url, {
      ...common,
      // Subscriptions are re-established after a reconnect, then caught up (see #onSubscriberReady).
      autoResubscribe: true,
      commandTimeout: undefined,
      connectionName: "broadcaster-live",
    });
    for (
      const [role, connection] of [["commands", this.#commands], [
        "live",
        this.#subscriber,
      ]] as const
    ) {
      connection.on("error", (error: Error) => {
        logger.warning("redis {role} connection: {error}", {
          role,
          error: error.message,
        });
      });
      connection.on(
        "ready",
        () => logger.info("redis {role} connection ready", { role }),
      );
    }
    this.#subscriber.on("ready", () => this.#onSubscriberReady());
    this.#subscriber.on(
      "message",
      (topicName: string, text: string) => this.#onLive(topicName, text),
    );
  }

  async start(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.healthy && Date.now() < deadline && !this.#closed) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (!this.healthy) {
      logger.warning("redis not reachable yet: serving unhealthy until it is");
    }
  }

  get healthy(): boolean {
    return !this.#closed && this.#commands.status === "ready" &&
      this.#subscriber.status === "ready";
  }

  async publish(message: NewMessage): Promise<Message> {
    const body = JSON.stringify([message.event, message.payloadJson]);
    const [id, position] = await this.#run(() =>
      publishScript.run(this.#commands, [
        streamKey(message.channel),
        positionKey(message.channel),
      ], [
        this.#maxLength,
        this.#ttlMs,
        topic(message.channel),
        body,
      ]) as Promise<[string, number]>
    );
    return messageOf(message.channel, id, position, body);
  }

  async history(channel: string, limit: number): Promise<readonly Message[]> {
    if (limit <= 0) return [];
    const entries = await this.#run(() =>
      historyScript.run(this.#commands, [streamKey(channel)], [
        String(limit),
        this.#ttlMs,
      ]) as Promise<
        StreamEntry[]
      >
    );
    return entries.reverse().map((entry) => messageOfEntry(channel, entry));
  }

  async since(
    channel: string,
    since: string,
  ): Promise<readonly Message[] | null> {
    if (!/^\d+-\d+$/.test(since)) return null;
    const entries = await this.#run(() =>
      sinceScript.run(this.#commands, [streamKey(channel)], [
        since,
        this.#ttlMs,
      ]) as Promise<
        StreamEntry[] | null
      >
    );
    return entries === null
      ? null
      : entries.map((entry) => messageOfEntry(channel, entry));
  }

  /**
   * Never fails: while Redis is unreachable the channel stays registered, and
   * the reconnect subscribes it and catches it up from the stream, so the
   * client's subscription is late, never dead.
   */
  listen(channel: string): Promise<void> {
    const known = this.#channels.get(channel);
    if (known !== undefined) return known.ready;
    const listening: Listening = {
      ready: Promise.resolve(),
      subscribed: false,
      lastId: undefined,
      since: Date.now(),
      held: null,
    };
    this.#channels.set(channel, listening);
    listening.ready = this.#startListening(channel, listening);
    return listening.ready;
  }

  unlisten(channel: string): void {
    if (!this.#channels.delete(channel)) return;
    this.#subscriber.unsubscribe(topic(channel)).catch(() => {
      // Disconnected: nothing to unsubscribe from, and autoResubscribe forgets it too.
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#channels.clear();
    this.#commands.disconnect();
    this.#subscriber.disconnect();
    await Promise.resolve();
  }

  /**
   * Notes where the stream ends, then subscribes. Messages published in
   * between precede the subscribe's answer, so they are not owed; a later
   * catch-up starts from that end and never skips a message delivered live.
   */
  async #startListening(channel: string, listening: Listening): Promise<void> {
    try {
      const [newest] = await this.#run(() =>
        this.#commands.xrevrange(
          streamKey(channel),
          "+",
          "-",
          "COUNT",
          1,
        ) as Promise<
          StreamEntry[]
        >
      );
      listening.lastId ??= newest?.[0] ?? "0-0";
      await this.#run(() => this.#subscriber.subscribe(topic(channel)));
      listening.subscribed = true;
    } catch (error) {
      logger.warning("listening to {channel} waits for redis: {error}", {
        channel,
        error: String(error),
      });
    }
  }

  #onLive(topicName: string, text: string): void {
    if (!topicName.startsWith(TOPIC_PREFIX)) return;
    const channel = topicName.slice(TOPIC_PREFIX.length);
    const listening = this.#channels.get(channel);
    if (listening === undefined) return;
    const firstSpace = text.indexOf(" ");
    const secondSpace = text.indexOf(" ", firstSpace + 1);
    const message = messageOf(
      channel,
      text.slice(0, firstSpace),
      Number(text.slice(firstSpace + 1, secondSpace)),
      text.slice(secondSpace + 1),
    );
    if (listening.held !== null) listening.held.push(message);
    else this.#deliverOnce(listening, message);
  }

  /** Delivers in id order, each message once, whichever way it came. */
  #deliverOnce(listening: Listening, message: Message): void {
    if (
      listening.lastId !== undefined &&
      compareIds(message.id, listening.lastId) <= 0
    ) return;
    listening.lastId = message.id;
    this.#deliver(message);
  }

  /** After a reconnect of the pub/sub connection: subscribe what is missing, catch every channel up. */
  #onSubscriberReady(): void {
    if (!this.#subscriberWasReady) {
      this.#subscriberWasReady = true;
      if (
        [...this.#channels.values()].every((listening) => listening.subscribed)
      ) return;
    }
    for (const [channel, listening] of this.#channels) {
      void this.#catchUp(channel, listening);
    }
  }

  /**
   * Holds live messages back, reads the stream after the last delivered id
   * (retrying while Redis comes back), delivers, then releases what was held.
   */
  async #catchUp(channel: string, listening: Listening): Promise<void> {
    listening.held ??= [];
    try {
      for (let attempt = 0; attempt < CATCH_UP_ATTEMPTS; attempt++) {
        if (this.#closed || this.#channels.get(channel) !== listening) return;
        try {
          // Acknowledged only once live messages flow again (ioredis resubscribes without waiting).
          await this.#run(() => this.#subscriber.subscribe(topic(channel)));
          listening.subscribed = true;
          const start = listening.lastId === undefined
            ? `${listening.since}-0`
            : `(${listening.lastId}`;
          const entries = await this.#run(() =>
            this.#commands.xrange(streamKey(channel), start, "+") as Promise<
              StreamEntry[]
            >
          );
          for (const entry of entries) {
            this.#deliverOnce(listening, messageOfEntry(channel, entry));
          }
          logger.info("caught {channel} up: {count} messages from the stream", {
            channel,
            count: entries.length,
          });
          return;
        } catch (error) {
          logger.warning("catching {channel} up, attempt {attempt}: {error}", {
            channel,
            attempt: attempt + 1,
            error: String(error),
          });
          await new Promise((resolve) =>
            setTimeout(resolve, retryDelay(attempt))
          );
        }
      }
    } finally {
      const held = listening.held ?? [];
      listening.held = null;
      // What the stream could not give back shows as a jump in position: a seq gap.
      for (const message of held) this.#deliverOnce(listening, message);
    }
  }

  /** Runs a command; any failure is the engine being unavailable. */
  async #run<T>(command: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new EngineUnavailableError("engine closed");
    try {
      return await command();
    } catch (error) {
      throw new EngineUnavailableError(
        `redis unavailable: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    }
  }
}
