/**
 * The single-process engine: each channel a stream numbered 1, 2, 3, …,
 * delivery by a direct call into the hub in the order publishes are
 * accepted, and per channel the last `HISTORY_SIZE` messages for
 * `HISTORY_TTL_SECONDS`.
 *
 * Every stream gets an epoch from a random per-process prefix, so a restart
 * (which loses all history) starts every channel in a new epoch, and a
 * client's position from before it is answered `recovered: false`.
 *
 * @module
 */

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
  type ControlCommand,
  type ControlHandler,
  type Deliver,
  type Engine,
  EngineUnavailableError,
  type HistorySettings,
  type KeepsLatest,
  STREAM_META_TTL_MS,
} from "./engine.ts";

/** Options of {@linkcode MemoryEngine}. */
export interface MemoryEngineOptions {
  /** Receives every accepted message: the hub. */
  readonly deliver: Deliver;
  /** Messages kept per channel; 0 keeps none. */
  readonly historySize: number;
  /** How long a message is kept, in seconds. */
  readonly historyTtlSeconds: number;
  /** Epoch milliseconds; `Date.now` unless a test controls time. */
  readonly clock?: () => number;
  /** Carries out the server API's commands on this (the only) node. */
  readonly onControl?: ControlHandler;
  /** A channel's own history settings (its namespace's, SPEC §10); the defaults above otherwise. */
  readonly historyOf?: (channel: string) => HistorySettings;
  /** Which channels keep their latest message of which events. */
  readonly keepsLatest?: KeepsLatest;
  /** Where epochs come from; a fresh random prefix unless a test fixes it. */
  readonly epochs?: EpochSource;
}

/**
 * A channel's stream: its epoch and offset, and its history, oldest first,
 * as the messages and when each was accepted (epoch ms) side by side. No
 * wrapper object per message: history is most of what a busy node retains,
 * and every retained object is work for the garbage collector.
 */
interface ChannelStream {
  readonly epoch: string;
  /** Its history settings, resolved once when the stream began. */
  readonly historySize: number;
  readonly ttlMs: number;
  /** The offset of the newest message; 0 before the first. */
  offset: number;
  readonly messages: Message[];
  readonly times: number[];
  /** The last publish or read (epoch ms): the stream is forgotten a meta TTL after it. */
  touched: number;
  /** The latest message of each event the channel keeps; made when first needed. */
  latest?: Map<string, Message>;
}

/**
 * Keeps everything in this process.
 *
 * @example
 * ```ts
 * const engine = new MemoryEngine({
 *   deliver: (message) => console.log(message.id), historySize: 100, historyTtlSeconds: 300,
 * });
 * await engine.publish({ channel: "room1", event: "e", payloadJson: "null" });
 * ```
 */
export class MemoryEngine implements Engine {
  readonly #deliver: Deliver;
  readonly #onControl: ControlHandler;
  readonly #clock: () => number;
  readonly #historySize: number;
  readonly #ttlMs: number;
  readonly #metaTtlMs: number;
  readonly #epochs: EpochSource;
  readonly #historyOf: ((channel: string) => HistorySettings) | undefined;
  readonly #keepsLatest: KeepsLatest | undefined;
  readonly #streams = new Map<string, ChannelStream>();
  /** Channels with local subscribers: their streams are kept while they have them. */
  readonly #listened = new Set<string>();
  readonly #sweeper: ReturnType<typeof setInterval>;
  #closed = false;

  /** An engine delivering to `options.deliver`; its history sweep runs unref'd. */
  constructor(options: MemoryEngineOptions) {
    this.#deliver = options.deliver;
    this.#onControl = options.onControl ?? (() => {});
    this.#clock = options.clock ?? Date.now;
    this.#historySize = options.historySize;
    this.#ttlMs = options.historyTtlSeconds * 1000;
    this.#metaTtlMs = Math.max(STREAM_META_TTL_MS, this.#ttlMs);
    this.#epochs = options.epochs ?? new EpochSource();
    this.#historyOf = options.historyOf;
    this.#keepsLatest = options.keepsLatest;
    // Channels nobody publishes to any more would otherwise keep their last messages forever.
    this.#sweeper = setInterval(
      () => this.#sweep(),
      Math.min(this.#ttlMs, 60_000),
    );
    Deno.unrefTimer(this.#sweeper);
  }

  get healthy(): boolean {
    return !this.#closed;
  }

  publish(message: NewMessage): Promise<Message> {
    if (this.#closed) {
      return Promise.reject(new EngineUnavailableError("engine closed"));
    }
    const now = this.#clock();
    const stream = this.#stream(message.channel, now);
    const offset = ++stream.offset;
    const accepted: Message = {
      channel: message.channel,
      event: message.event,
      payloadJson: message.payloadJson,
      id: `${stream.epoch}-${offset}`,
      createTime: formatTimestamp(now),
      epoch: stream.epoch,
      offset,
      from: message.from,
    };
    this.#remember(stream, accepted, now);
    if (this.#keepsLatest?.(message.channel, message.event) === true) {
      (stream.latest ??= new Map()).set(message.event, accepted);
    }
    this.#deliver(accepted);
    return Promise.resolve(accepted);
  }

  exists(channel: string): Promise<boolean> {
    return Promise.resolve(this.#streams.has(channel));
  }

  latest(channel: string): Promise<readonly Message[]> {
    const stream = this.#streams.get(channel);
    if (stream?.latest === undefined) return Promise.resolve([]);
    stream.touched = this.#clock();
    return Promise.resolve(
      [...stream.latest.values()].sort((a, b) => a.offset - b.offset),
    );
  }

  history(channel: string, limit: number): Promise<readonly Message[]> {
    const stream = this.#streams.get(channel);
    if (stream === undefined) return Promise.resolve([]);
    const messages = this.#live(stream, this.#clock());
    return Promise.resolve(
      messages.slice(Math.max(0, messages.length - limit)),
    );
  }

  read(
    channel: string,
    since: StreamPosition | null,
    limit: number,
  ): Promise<StreamRead> {
    if (this.#closed) {
      return Promise.reject(new EngineUnavailableError("engine closed"));
    }
    const now = this.#clock();
    const stream = this.#stream(channel, now);
    const position = { epoch: stream.epoch, offset: stream.offset };
    if (
      since === null || since.epoch !== stream.epoch ||
      since.offset > stream.offset
    ) {
      return Promise.resolve({ position, messages: [], recovered: false });
    }
    const messages = this.#live(stream, now);
    // Offsets in history are consecutive, ending at the stream's offset.
    const oldest = stream.offset - messages.length + 1;
    const start = Math.max(0, since.offset + 1 - oldest);
    return Promise.resolve({
      position,
      messages: messages.slice(start, start + limit),
      recovered: since.offset + 1 >= oldest,
    });
  }

  start(_timeoutMs: number): Promise<void> {
    return Promise.resolve();
  }

  /** Every message is delivered to this process's hub already; the stream is kept while listened to. */
  listen(channel: string): Promise<void> {
    this.#listened.add(channel);
    return Promise.resolve();
  }

  /** Every message is delivered to this process's hub already. */
  listenPattern(_pattern: string): Promise<void> {
    return Promise.resolve();
  }

  unlistenPattern(_pattern: string): void {}

  /** This process is every node: carried out at once. */
  control(command: ControlCommand): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new EngineUnavailableError("engine closed"));
    }
    this.#onControl(command);
    return Promise.resolve();
  }

  unlisten(channel: string): void {
    this.#listened.delete(channel);
    const stream = this.#streams.get(channel);
    if (stream !== undefined) stream.touched = this.#clock();
  }

  close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    this.#streams.clear();
    return Promise.resolve();
  }

  /** The channel's stream, begun in a new epoch if it has none (or only a forgotten one). */
  #stream(channel: string, now: number): ChannelStream {
    let stream = this.#streams.get(channel);
    if (stream === undefined || this.#forgotten(channel, stream, now)) {
      const own = this.#historyOf?.(channel);
      stream = {
        epoch: this.#epochs.next(),
        historySize: own?.historySize ?? this.#historySize,
        ttlMs: own === undefined ? this.#ttlMs : own.historyTtlSeconds * 1000,
        offset: 0,
        messages: [],
        times: [],
        touched: now,
      };
      this.#streams.set(channel, stream);
    } else {
      stream.touched = now;
    }
    return stream;
  }

  #remember(stream: ChannelStream, message: Message, now: number): void {
    if (stream.historySize === 0) return;
    stream.messages.push(message);
    stream.times.push(now);
    if (stream.messages.length > stream.historySize) {
      stream.messages.shift();
      stream.times.shift();
    }
  }

  /** The stream's history without expired messages (which are dropped for good). */
  #live(stream: ChannelStream, now: number): readonly Message[] {
    const { messages, times } = stream;
    const cutoff = now - stream.ttlMs;
    let expired = 0;
    while (expired < times.length && (times[expired] ?? 0) <= cutoff) {
      expired++;
    }
    if (expired > 0) {
      messages.splice(0, expired);
      times.splice(0, expired);
    }
    return messages;
  }

  /** A stream with no history left, nobody listening and nothing done for a meta TTL. */
  #forgotten(channel: string, stream: ChannelStream, now: number): boolean {
    return now - stream.touched > Math.max(this.#metaTtlMs, stream.ttlMs) &&
      !this.#listened.has(channel) && this.#live(stream, now).length === 0;
  }

  /** Expires history, and drops forgotten streams. */
  #sweep(): void {
    const now = this.#clock();
    for (const [channel, stream] of this.#streams) {
      this.#live(stream, now);
      if (this.#forgotten(channel, stream, now)) this.#streams.delete(channel);
    }
  }
}
