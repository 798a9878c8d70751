/**
 * The Redis engine (`ENGINE=redis`): several nodes share one Redis.
 *
 * A publish is one Lua script, so it is atomic: it numbers the message in its
 * channel (the offset in the channel's meta hash), appends it to the
 * channel's stream (capped to `HISTORY_SIZE`, trimmed to
 * `HISTORY_TTL_SECONDS`) and publishes it to the nodes that listen. History
 * order and live order are therefore the same on every node, and ids and
 * creation times come from Redis, not from the nodes.
 *
 * A channel's epoch lives in the same meta hash. A Redis that lost its data
 * (a flush, a restart without persistence) has no hash, so the next script
 * begins a new epoch (the calling node's candidate, unique cluster-wide), and
 * a position from before the loss can never be taken for one of this epoch.
 *
 * A node subscribes (pub/sub) only to channels it has local subscribers for.
 * When its pub/sub connection drops and comes back, it catches each channel
 * up from the stream, after the last message it delivered; what the stream no
 * longer has shows as a jump in offset, which the hub turns into a `seq` gap.
 *
 * While Redis is unreachable, publishes fail at once (no offline queue, no
 * silent resend), `healthy` is false, and both connections reconnect with
 * capped exponential backoff.
 *
 * @module
 */

import { Redis } from "ioredis";
import { log } from "../log.ts";
import {
  formatTimestamp,
  type Message,
  type NewMessage,
} from "../protocol/message.ts";
import {
  EpochSource,
  type StreamPosition,
  type StreamRead,
} from "../protocol/position.ts";
import {
  type ClusterDelivery,
  type ControlCommand,
  type ControlHandler,
  type Deliver,
  type Engine,
  type HistorySettings,
  type KeepsLatest,
  STREAM_META_TTL_MS,
} from "./engine.ts";
import { globOf } from "../protocol/channel.ts";
import {
  deliverOnce,
  historyScript,
  type Listening,
  liveMessage,
  messageOfEntry,
  messageOfText,
  publishScript,
  readScript,
  releaseHeld,
  type StreamEntry,
} from "./redis_streams.ts";
import { controlOf } from "./redis_control.ts";
import { RedisNames } from "./redis_names.ts";
import {
  connect,
  retryDelay,
  unavailableUnless,
  waitForRedis,
} from "./redis_connections.ts";

const logger = log("redis");

/** How often a catch-up is tried before the gap is left to show in `seq`. */
const CATCH_UP_ATTEMPTS = 10;

/** Entries a node's catch-up reads per round trip. */
const CATCH_UP_BATCH = 1000;

/** What the read script returns: epoch, offset, recovered (0/1), entries. */
type ReadReply = [string, number, number, StreamEntry[]];

/** Options of {@linkcode RedisEngine}. */
export interface RedisEngineOptions {
  /** `redis://` or `rediss://`, with password if any. */
  readonly url: string;
  /** Receives every message of the channels and patterns this node listens to: the hub. */
  readonly deliver: ClusterDelivery;
  /** Carries out the server API's commands that reach this node. */
  readonly onControl?: ControlHandler;
  /** A channel's own history settings (its namespace's, SPEC §10); the defaults otherwise. */
  readonly historyOf?: (channel: string) => HistorySettings;
  /** Which channels keep their latest message of which events. */
  readonly keepsLatest?: KeepsLatest;
  /** Its app's key names (the default app's without it). */
  readonly names?: RedisNames;
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
 *     deliver: hub,
 *     historySize: 100,
 *     historyTtlSeconds: 300,
 *   });
 *   await engine.start(5_000);
 *   return engine;
 * }
 * ```
 */
export class RedisEngine implements Engine {
  readonly #names: RedisNames;
  readonly #commands: Redis;
  readonly #subscriber: Redis;
  readonly #deliver: Deliver;
  readonly #delivery: ClusterDelivery;
  /** Patterns listened to, and how many of them each glob serves: PSUBSCRIBEd while any does. */
  readonly #patterns = new Map<string, Promise<void>>();
  readonly #globs = new Map<string, number>();
  readonly #maxLength: string;
  readonly #ttlMs: string;
  readonly #metaTtlMs: string;
  readonly #historyOf: ((channel: string) => HistorySettings) | undefined;
  readonly #keepsLatest: KeepsLatest | undefined;
  readonly #epochs = new EpochSource();
  readonly #channels = new Map<string, Listening>();
  #subscriberWasReady = false;
  #closed = false;

  /** Connects (lazily, with backoff) to `options.url`; `start` waits for it. */
  constructor(options: RedisEngineOptions) {
    this.#names = options.names ?? new RedisNames();
    this.#delivery = options.deliver;
    this.#deliver = (message) => options.deliver.toChannel(message);
    this.#maxLength = String(options.historySize);
    this.#historyOf = options.historyOf;
    this.#keepsLatest = options.keepsLatest;
    this.#ttlMs = String(options.historyTtlSeconds * 1000);
    this.#metaTtlMs = String(
      Math.max(STREAM_META_TTL_MS, options.historyTtlSeconds * 1000),
    );
    [this.#commands, this.#subscriber] = connect(options.url);
    this.#subscriber.on("ready", () => this.#onSubscriberReady());
    const onControl = options.onControl ?? (() => {});
    // Every node hears the server API's commands, from the start.
    this.#subscriber.subscribe(this.#names.control).catch(() => {
      // Not connected yet: autoResubscribe does not know it, so the first ready does.
    });
    this.#subscriber.on("ready", () => {
      this.#subscriber.subscribe(this.#names.control).catch(() => {});
    });
    this.#subscriber.on("message", (topicName: string, text: string) => {
      if (topicName !== this.#names.control) return;
      const command = controlOf(text);
      if (command !== null) onControl(command);
    });
    this.#subscriber.on(
      "message",
      (topicName: string, text: string) => this.#onLive(topicName, text),
    );
    this.#subscriber.on(
      "pmessage",
      (glob: string, topicName: string, text: string) => {
        const message = liveMessage(this.#names.topicPrefix, topicName, text);
        if (message !== null && glob.startsWith(this.#names.topicPrefix)) {
          this.#delivery.toPatterns(
            message,
            glob.slice(this.#names.topicPrefix.length),
          );
        }
      },
    );
  }

  start(timeoutMs: number): Promise<void> {
    return waitForRedis(
      "messages",
      () => this.healthy,
      () => this.#closed,
      timeoutMs,
    );
  }

  get healthy(): boolean {
    return !this.#closed && this.#commands.status === "ready" &&
      this.#subscriber.status === "ready";
  }

  async publish(message: NewMessage): Promise<Message> {
    const [epoch, offset, milliseconds] = await this.#command(
      () =>
        publishScript.run(this.#commands, [
          this.#names.stream(message.channel),
          this.#names.meta(message.channel),
          this.#names.latest(message.channel),
        ], [
          ...this.#history(message.channel),
          this.#metaTtlMs,
          this.#names.topic(message.channel),
          JSON.stringify(
            message.from === undefined
              ? [message.event, message.payloadJson]
              : [message.event, message.payloadJson, message.from],
          ),
          this.#epochs.next(),
          this.#keepsLatest?.(message.channel, message.event) === true
            ? message.event
            : "",
        ]) as Promise<[string, number, number]>,
    );
    return {
      ...message,
      id: `${epoch}-${offset}`,
      createTime: formatTimestamp(milliseconds),
      epoch,
      offset,
    };
  }

  async exists(channel: string): Promise<boolean> {
    const count = await this.#command(() =>
      this.#commands.exists(this.#names.meta(channel))
    );
    return count > 0;
  }

  async latest(channel: string): Promise<readonly Message[]> {
    const kept = await this.#command(() =>
      this.#commands.hvals(this.#names.latest(channel))
    );
    return kept.flatMap((text) => messageOfText(channel, text) ?? [])
      .sort((a, b) => a.offset - b.offset);
  }

  async history(channel: string, limit: number): Promise<readonly Message[]> {
    if (limit <= 0) return [];
    const [epoch, entries] = await this.#command(
      () =>
        historyScript.run(this.#commands, [
          this.#names.stream(channel),
          this.#names.meta(channel),
        ], [String(limit), this.#history(channel)[1]]) as Promise<
          [string, StreamEntry[]]
        >,
    );
    return entries.reverse().map((entry) =>
      messageOfEntry(channel, epoch, entry)
    );
  }

  async read(
    channel: string,
    since: StreamPosition | null,
    limit: number,
  ): Promise<StreamRead> {
    const [epoch, offset, recovered, entries] = await this.#command(
      () =>
        readScript.run(this.#commands, [
          this.#names.stream(channel),
          this.#names.meta(channel),
        ], [
          this.#history(channel)[1],
          this.#metaTtlMs,
          this.#epochs.next(),
          since?.epoch ?? "",
          String(since?.offset ?? 0),
          String(Math.max(1, limit)),
        ]) as Promise<ReadReply>,
    );
    return {
      position: { epoch, offset },
      messages: entries.map((entry) => messageOfEntry(channel, epoch, entry)),
      recovered: recovered === 1,
    };
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
      last: null,
      held: null,
    };
    this.#channels.set(channel, listening);
    listening.ready = this.#startListening(channel, listening);
    return listening.ready;
  }

  /**
   * PSUBSCRIBEs the pattern's glob (a superset: the hub keeps only the
   * channels that match). Never fails: while Redis is unreachable,
   * ioredis subscribes it again on reconnect.
   */
  listenPattern(pattern: string): Promise<void> {
    let listening = this.#patterns.get(pattern);
    if (listening === undefined) {
      listening = this.#listenGlob(globOf(pattern), pattern);
      this.#patterns.set(pattern, listening);
    }
    return listening;
  }

  async #listenGlob(glob: string, pattern: string): Promise<void> {
    const count = this.#globs.get(glob) ?? 0;
    this.#globs.set(glob, count + 1);
    if (count > 0) return;
    try {
      await this.#command(() =>
        this.#subscriber.psubscribe(`${this.#names.topicPrefix}${glob}`)
      );
    } catch (error) {
      logger.warning("listening to {pattern} waits for redis: {error}", {
        pattern,
        error: String(error),
      });
    }
  }

  unlistenPattern(pattern: string): void {
    if (!this.#patterns.delete(pattern)) return;
    const glob = globOf(pattern);
    const count = (this.#globs.get(glob) ?? 0) - 1;
    if (count > 0) {
      this.#globs.set(glob, count);
      return;
    }
    this.#globs.delete(glob);
    this.#subscriber.punsubscribe(`${this.#names.topicPrefix}${glob}`).catch(
      () => {
        // Disconnected: nothing to unsubscribe from.
      },
    );
  }

  async control(command: ControlCommand): Promise<void> {
    await this.#command(() =>
      this.#commands.publish(this.#names.control, JSON.stringify(command))
    );
  }

  unlisten(channel: string): void {
    if (!this.#channels.delete(channel)) return;
    this.#subscriber.unsubscribe(this.#names.topic(channel)).catch(() => {
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
   * Notes where the stream stands, then subscribes. Messages published in
   * between precede every local subscription's position, so they are not
   * owed; a later catch-up starts from there and never skips a message
   * delivered live.
   */
  async #startListening(channel: string, listening: Listening): Promise<void> {
    try {
      const { position } = await this.read(channel, null, 1);
      listening.last ??= position;
      await this.#command(
        () => this.#subscriber.subscribe(this.#names.topic(channel)),
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
    const message = liveMessage(this.#names.topicPrefix, topicName, text);
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
            () => this.#subscriber.subscribe(this.#names.topic(channel)),
          );
          listening.subscribed = true;
          const count = await this.#readMissed(channel, listening);
          logger.info("caught {channel} up: {count} messages from the stream", {
            channel,
            count,
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

  /**
   * Delivers what the stream holds after the last delivered message, in
   * batches; in a new epoch (Redis lost its data) everything it has. What
   * it no longer holds shows as a jump in offset: a `seq` gap.
   */
  async #readMissed(channel: string, listening: Listening): Promise<number> {
    let count = 0;
    for (;;) {
      const last = listening.last;
      const read = await this.read(channel, last, CATCH_UP_BATCH);
      // Where this node stood is unknown (it never got to read it), or of
      // an earlier life: everything the stream has. The hub skips what a
      // subscription already counted.
      if (last === null || read.position.epoch !== last.epoch) {
        listening.last = { epoch: read.position.epoch, offset: 0 };
        continue;
      }
      for (const message of read.messages) {
        deliverOnce(listening, message, this.#deliver);
      }
      count += read.messages.length;
      const newest = read.messages.at(-1);
      if (newest === undefined || newest.offset >= read.position.offset) {
        return count;
      }
    }
  }

  /** The stream cap and TTL (ms) of `channel`, as script arguments. */
  #history(channel: string): [maxLength: string, ttlMs: string] {
    const own = this.#historyOf?.(channel);
    return own === undefined
      ? [this.#maxLength, this.#ttlMs]
      : [String(own.historySize), String(own.historyTtlSeconds * 1000)];
  }

  /** Runs a command; any failure is the engine being unavailable. */
  #command<T>(command: () => Promise<T>): Promise<T> {
    return unavailableUnless(this.#closed, command);
  }
}
