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

import { Redis } from "ioredis";
import { log } from "../log.ts";
import type { Message, NewMessage } from "../protocol/message.ts";
import type { Deliver, Engine } from "./engine.ts";
import {
  deliverOnce,
  historyScript,
  type Listening,
  liveMessage,
  messageOf,
  messageOfEntry,
  positionKey,
  publishScript,
  releaseHeld,
  sinceScript,
  type StreamEntry,
  streamKey,
  topic,
} from "./redis_streams.ts";
import { connect, retryDelay, unavailableUnless } from "./redis_connections.ts";

const logger = log("redis");

/** How often a catch-up is tried before the gap is left to show in `seq`. */
const CATCH_UP_ATTEMPTS = 10;

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
    [this.#commands, this.#subscriber] = connect(options.url);
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
    const [id, position] = await this.#command(
      () =>
        publishScript.run(this.#commands, [
          streamKey(message.channel),
          positionKey(message.channel),
        ], [
          this.#maxLength,
          this.#ttlMs,
          topic(message.channel),
          body,
        ]) as Promise<[string, number]>,
    );
    return messageOf(message.channel, id, position, body);
  }

  async history(channel: string, limit: number): Promise<readonly Message[]> {
    if (limit <= 0) return [];
    const entries = await this.#command(
      () =>
        historyScript.run(this.#commands, [streamKey(channel)], [
          String(limit),
          this.#ttlMs,
        ]) as Promise<
          StreamEntry[]
        >,
    );
    return entries.reverse().map((entry) => messageOfEntry(channel, entry));
  }

  async since(
    channel: string,
    since: string,
  ): Promise<readonly Message[] | null> {
    if (!/^\d+-\d+$/.test(since)) return null;
    const entries = await this.#command(
      () =>
        sinceScript.run(this.#commands, [streamKey(channel)], [
          since,
          this.#ttlMs,
        ]) as Promise<
          StreamEntry[] | null
        >,
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
      const [newest] = await this.#command(
        () =>
          this.#commands.xrevrange(
            streamKey(channel),
            "+",
            "-",
            "COUNT",
            1,
          ) as Promise<
            StreamEntry[]
          >,
      );
      listening.lastId ??= newest?.[0] ?? "0-0";
      await this.#command(
        () => this.#subscriber.subscribe(topic(channel)),
      );
      listening.subscribed = true;
    } catch (error) {
      logger.warning("listening to {channel} waits for redis: {error}", {
        channel,
        error: String(error),
      });
    }
  }

  #onLive(topicName: string, text: string): void {
    const message = liveMessage(topicName, text);
    if (message === null) return;
    const listening = this.#channels.get(message.channel);
    if (listening === undefined) return;
    if (listening.held !== null) listening.held.push(message);
    else deliverOnce(listening, message, this.#deliver);
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
          await this.#command(
            () => this.#subscriber.subscribe(topic(channel)),
          );
          listening.subscribed = true;
          const start = listening.lastId === undefined
            ? `${listening.since}-0`
            : `(${listening.lastId}`;
          const entries = await this.#command(
            () =>
              this.#commands.xrange(streamKey(channel), start, "+") as Promise<
                StreamEntry[]
              >,
          );
          for (const entry of entries) {
            deliverOnce(
              listening,
              messageOfEntry(channel, entry),
              this.#deliver,
            );
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
      // What the stream could not give back shows as a jump in position: a seq gap.
      releaseHeld(listening, this.#deliver);
    }
  }

  /** Runs a command; any failure is the engine being unavailable. */
  #command<T>(command: () => Promise<T>): Promise<T> {
    return unavailableUnless(this.#closed, command);
  }
}
