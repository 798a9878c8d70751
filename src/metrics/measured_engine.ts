/**
 * An engine that times its publishes: metrics observe the engine every
 * transport publishes through, instead of performing publishes themselves.
 *
 * @module
 */

import type { ControlCommand, Engine } from "../engine/engine.ts";
import type { Message, NewMessage } from "../protocol/message.ts";
import type { StreamPosition, StreamRead } from "../protocol/position.ts";
import type { Histogram } from "./registry.ts";

/**
 * Wraps `engine`, observing each accepted publish's duration in seconds.
 *
 * @example
 * ```ts
 * import { MemoryEngine } from "../engine/memory.ts";
 * import { MeasuredEngine } from "./measured_engine.ts";
 * import { Histogram } from "./registry.ts";
 *
 * const latency = new Histogram("publish_seconds", "Publish time.", [0.001, 0.01]);
 * const engine = new MeasuredEngine(
 *   new MemoryEngine({ deliver: () => {}, historySize: 10, historyTtlSeconds: 60 }),
 *   latency,
 * );
 * await engine.publish({ channel: "room1", event: "e", payloadJson: "1" });
 * await engine.close();
 * ```
 */
export class MeasuredEngine implements Engine {
  readonly #engine: Engine;
  readonly #latency: Histogram;

  /** Wraps `engine`; publish durations go to `latency`. */
  constructor(engine: Engine, latency: Histogram) {
    this.#engine = engine;
    this.#latency = latency;
  }

  /** Publishes through the wrapped engine and observes how long it took. */
  publish(message: NewMessage): Promise<Message> {
    const started = performance.now();
    // One `then`, not an async function: this is on every publish's path.
    return this.#engine.publish(message).then((accepted) => {
      this.#latency.observe((performance.now() - started) / 1000);
      return accepted;
    });
  }

  /** As the wrapped engine's. */
  exists(channel: string): Promise<boolean> {
    return this.#engine.exists(channel);
  }

  /** As the wrapped engine's. */
  latest(channel: string): Promise<readonly Message[]> {
    return this.#engine.latest(channel);
  }

  /** As the wrapped engine's. */
  history(channel: string, limit: number): Promise<readonly Message[]> {
    return this.#engine.history(channel, limit);
  }

  /** As the wrapped engine's. */
  read(
    channel: string,
    since: StreamPosition | null,
    limit: number,
  ): Promise<StreamRead> {
    return this.#engine.read(channel, since, limit);
  }

  /** As the wrapped engine's. */
  listen(channel: string): Promise<void> {
    return this.#engine.listen(channel);
  }

  /** As the wrapped engine's. */
  unlisten(channel: string): void {
    this.#engine.unlisten(channel);
  }

  /** As the wrapped engine's. */
  control(command: ControlCommand): Promise<void> {
    return this.#engine.control(command);
  }

  /** As the wrapped engine's. */
  listenPattern(pattern: string): Promise<void> {
    return this.#engine.listenPattern(pattern);
  }

  /** As the wrapped engine's. */
  unlistenPattern(pattern: string): void {
    this.#engine.unlistenPattern(pattern);
  }

  /** As the wrapped engine's. */
  start(timeoutMs: number): Promise<void> {
    return this.#engine.start(timeoutMs);
  }

  /** As the wrapped engine's. */
  get healthy(): boolean {
    return this.#engine.healthy;
  }

  /** As the wrapped engine's. */
  close(): Promise<void> {
    return this.#engine.close();
  }
}
