/**
 * The single-process engine: ids from a monotonic counter, delivery by a
 * direct call into the hub in the order publishes are accepted, and per
 * channel the last `HISTORY_SIZE` messages for `HISTORY_TTL_SECONDS`.
 *
 * @module
 */

import {
  formatTimestamp,
  type Message,
  type NewMessage,
} from "../protocol/message.ts";
import { type Deliver, type Engine, EngineUnavailableError } from "./engine.ts";

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
}

/**
 * A channel's history, oldest first: the messages, and when each was
 * accepted (epoch ms) for expiry, side by side. No wrapper object per
 * message: history is most of what a busy node retains, and every retained
 * object is work for the garbage collector.
 */
interface ChannelHistory {
  readonly messages: Message[];
  readonly times: number[];
}

/**
 * Keeps everything in this process.
 *
 * Ids are `<epoch ms>-<counter>`, like Redis stream ids, and strictly increase
 * even if the clock steps back, so an id is never handed out twice.
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
  readonly #clock: () => number;
  readonly #historySize: number;
  readonly #ttlMs: number;
  /** Per channel, oldest first; a channel with nothing left is deleted. */
  readonly #history = new Map<string, ChannelHistory>();
  readonly #sweeper: ReturnType<typeof setInterval>;
  #lastMilliseconds = 0;
  #counter = 0;
  #closed = false;

  /** An engine delivering to `options.deliver`; its history sweep runs unref'd. */
  constructor(options: MemoryEngineOptions) {
    this.#deliver = options.deliver;
    this.#clock = options.clock ?? Date.now;
    this.#historySize = options.historySize;
    this.#ttlMs = options.historyTtlSeconds * 1000;
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
    if (now > this.#lastMilliseconds) {
      this.#lastMilliseconds = now;
      this.#counter = 0;
    } else {
      this.#counter++;
    }
    const accepted: Message = {
      channel: message.channel,
      event: message.event,
      payloadJson: message.payloadJson,
      id: `${this.#lastMilliseconds}-${this.#counter}`,
      createTime: formatTimestamp(now),
    };
    this.#remember(accepted, now);
    this.#deliver(accepted);
    return Promise.resolve(accepted);
  }

  history(channel: string, limit: number): Promise<readonly Message[]> {
    const messages = this.#live(channel);
    return Promise.resolve(
      messages.slice(Math.max(0, messages.length - limit)),
    );
  }

  since(channel: string, since: string): Promise<readonly Message[] | null> {
    const messages = this.#live(channel);
    // From the newest: a client recovering is usually only a few messages behind.
    for (let i = messages.length - 1; i >= 0; i--) {
      if (messages[i]?.id === since) {
        return Promise.resolve(messages.slice(i + 1));
      }
    }
    return Promise.resolve(null);
  }

  start(_timeoutMs: number): Promise<void> {
    return Promise.resolve();
  }

  /** Every message is delivered to this process's hub already. */
  listen(_channel: string): Promise<void> {
    return Promise.resolve();
  }

  unlisten(_channel: string): void {}

  close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    this.#history.clear();
    return Promise.resolve();
  }

  #remember(message: Message, now: number): void {
    if (this.#historySize === 0) return;
    let history = this.#history.get(message.channel);
    if (history === undefined) {
      history = { messages: [], times: [] };
      this.#history.set(message.channel, history);
    }
    history.messages.push(message);
    history.times.push(now);
    if (history.messages.length > this.#historySize) {
      history.messages.shift();
      history.times.shift();
    }
  }

  /** The channel's history without expired messages (which are dropped for good). */
  #live(channel: string): readonly Message[] {
    const history = this.#history.get(channel);
    if (history === undefined) return [];
    const { messages, times } = history;
    const cutoff = this.#clock() - this.#ttlMs;
    let expired = 0;
    while (expired < times.length && (times[expired] ?? 0) <= cutoff) {
      expired++;
    }
    if (expired > 0) {
      messages.splice(0, expired);
      times.splice(0, expired);
    }
    if (messages.length === 0) this.#history.delete(channel);
    return messages;
  }

  #sweep(): void {
    for (const channel of this.#history.keys()) this.#live(channel);
  }
}
