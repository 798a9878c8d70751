/**
 * Builds the presence store that goes with the engine: in this process for
 * `memory`, shared through Redis for `redis` (loaded only when used).
 *
 * @module
 */

import type { EngineConfig } from "../config.ts";
import type { RedisNames } from "../engine/redis_names.ts";
import { MemoryPresence } from "./memory.ts";
import type {
  PresenceListener,
  PresenceStore,
  PresenceTransition,
} from "./presence.ts";

/** What every presence store is built with. */
export interface PresenceOptions {
  /** Receives every event of the channels this node listens to: the fan-out. */
  readonly listener: PresenceListener;
  /** `PRESENCE_LEAVE_DELAY_MS`. */
  readonly leaveDelayMs: number;
  /** Told of each transition this node decided: the webhooks. */
  readonly onTransition: (transition: PresenceTransition) => void;
  /** The app's Redis key names (the default app's without it). */
  readonly names?: RedisNames;
}

/**
 * The presence store for `engine`.
 *
 * @example
 * ```ts
 * import { createPresence } from "./create.ts";
 *
 * const presence = await createPresence({ kind: "memory" }, {
 *   listener: (event) => console.log(event),
 *   leaveDelayMs: 5000,
 *   onTransition: (transition) => console.log(transition.name),
 * });
 * await presence.close();
 * ```
 */
export async function createPresence(
  engine: EngineConfig,
  options: PresenceOptions,
): Promise<PresenceStore> {
  switch (engine.kind) {
    case "memory":
      return new MemoryPresence(options);
    case "redis": {
      const { RedisPresence } = await import("./redis.ts");
      return new RedisPresence({ url: engine.url, ...options });
    }
  }
}
