/**
 * Builds the engine the configuration names. The Redis engine (and its
 * client library) is loaded only when it is used.
 *
 * @module
 */

import type { EngineConfig } from "../config.ts";
import type {
  ClusterDelivery,
  ControlHandler,
  Deliver,
  Engine,
  HistorySettings,
  KeepsLatest,
} from "./engine.ts";
import { MemoryEngine } from "./memory.ts";
import type { RedisNames } from "./redis_names.ts";

/** What every engine is built with, besides its own settings. */
export interface EngineOptions {
  /** Receives every message the engine accepts, in order: the node's hub. */
  readonly deliver: Deliver;
  /** Where a cluster engine delivers, subscriptions and patterns apart: the same hub. */
  readonly cluster: ClusterDelivery;
  /** Carries out the server API's commands on this node. */
  readonly onControl: ControlHandler;
  /** A channel's own history settings (its namespace's); the defaults otherwise. */
  readonly historyOf?: (channel: string) => HistorySettings;
  /** The app's Redis key names (the default app's without it). */
  readonly names?: RedisNames;
  /** Which channels keep their latest message of which events (a Nova stream's state). */
  readonly keepsLatest?: KeepsLatest;
  /** `HISTORY_SIZE`. */
  readonly historySize: number;
  /** `HISTORY_TTL_SECONDS`. */
  readonly historyTtlSeconds: number;
  /** Epoch milliseconds (the memory engine's ids and times; Redis uses its own clock). */
  readonly clock: () => number;
}

/**
 * The engine of `config`, not yet started.
 *
 * @example
 * ```ts
 * import { createEngine } from "./create.ts";
 *
 * const engine = await createEngine({ kind: "memory" }, {
 *   deliver: (message) => console.log(message.id),
 *   cluster: { toChannel: () => {}, toPatterns: () => {} },
 *   onControl: (command) => console.log(command.kind),
 *   historySize: 100,
 *   historyTtlSeconds: 300,
 *   clock: Date.now,
 * });
 * await engine.close();
 * ```
 */
export async function createEngine(
  config: EngineConfig,
  options: EngineOptions,
): Promise<Engine> {
  switch (config.kind) {
    case "memory":
      return new MemoryEngine(options);
    case "redis": {
      const { RedisEngine } = await import("./redis.ts");
      return new RedisEngine({
        url: config.url,
        deliver: options.cluster,
        onControl: options.onControl,
        ...(options.names === undefined ? {} : { names: options.names }),
        ...(options.historyOf === undefined
          ? {}
          : { historyOf: options.historyOf }),
        ...(options.keepsLatest === undefined
          ? {}
          : { keepsLatest: options.keepsLatest }),
        historySize: options.historySize,
        historyTtlSeconds: options.historyTtlSeconds,
      });
    }
  }
}
