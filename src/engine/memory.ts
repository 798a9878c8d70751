/**
 * The single-process engine: ids from a monotonic counter, delivery by a
 * direct call into the hub, in the order publishes are accepted.
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
  /** Epoch milliseconds; `Date.now` unless a test controls time. */
  readonly clock?: () => number;
}

/**
 * Keeps everything in this process.
 *
 * Ids are `<epoch ms>-<counter>`, like Redis stream ids, and strictly increase
 * even if the clock steps back, so an id is never handed out twice.
 *
 * @example
 * ```ts
 * const engine = new MemoryEngine({ deliver: (message) => console.log(message.id) });
 * await engine.publish({ channel: "room1", event: "e", payloadJson: "null" });
 * ```
 */
export class MemoryEngine implements Engine {
  readonly #deliver: Deliver;
  readonly #clock: () => number;
  #lastMilliseconds = 0;
  #counter = 0;
  #closed = false;

  constructor(options: MemoryEngineOptions) {
    this.#deliver = options.deliver;
    this.#clock = options.clock ?? Date.now;
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
      ...message,
      id: `${this.#lastMilliseconds}-${this.#counter}`,
      createTime: formatTimestamp(now),
    };
    this.#deliver(accepted);
    return Promise.resolve(accepted);
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}
