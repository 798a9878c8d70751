/**
 * The Redis engine's connections: one for commands, one for pub/sub, with a
 * timeout per command, capped and jittered backoff between reconnection
 * attempts, and every failure reported as the engine being unavailable.
 *
 * @module
 */

import { Redis } from "ioredis";
import { log } from "../log.ts";
import { EngineUnavailableError } from "./engine.ts";

const logger = log("redis");

/** Longest wait for one command before it fails: a hung Redis must not hang publishers. */
const COMMAND_TIMEOUT_MS = 5_000;

/**
 * Reconnection backoff: 100 ms doubling up to 3 s, with jitter.
 *
 * @example
 * ```ts
 * import { retryDelay } from "./redis_connections.ts";
 *
 * retryDelay(0); // 50 to 100 ms
 * retryDelay(10); // 1.5 to 3 s
 * ```
 */
export function retryDelay(attempt: number): number {
  const capped = Math.min(3_000, 100 * 2 ** Math.min(attempt, 10));
  return Math.round(capped / 2 + Math.random() * (capped / 2));
}

/**
 * Runs a Redis command; any failure, or a closed engine, is the engine being
 * unavailable (`EngineUnavailableError`): 503 over REST, never a bug.
 */
export async function unavailableUnless<T>(
  closed: boolean,
  command: () => Promise<T>,
): Promise<T> {
  if (closed) throw new EngineUnavailableError("engine closed");
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

/**
 * The command and pub/sub connections to `url`, logging their state. They
 * connect in the background; `status === "ready"` tells when they can serve.
 * Both fail at once while disconnected (no offline queue, no silent resend).
 *
 * `name` names them for `CLIENT LIST` (`<name>` and `<name>-live`).
 *
 * @internal The Redis engine's and presence's own: its types are ioredis's.
 */
export function connect(
  url: string,
  name = "broadcaster",
): [commands: Redis, subscriber: Redis] {
  const common = {
    retryStrategy: retryDelay,
    // Fail at once while disconnected, and never resend a publish that may have run.
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
  };
  const commands = new Redis(url, { ...common, connectionName: name });
  const subscriber = new Redis(url, {
    ...common,
    // Subscriptions are re-established after a reconnect, then caught up by the engine.
    autoResubscribe: true,
    commandTimeout: undefined,
    connectionName: `${name}-live`,
  });
  for (
    const [role, connection] of [
      ["commands", commands],
      ["live", subscriber],
    ] as const
  ) {
    connection.on("error", (error: Error) => {
      logger.warning("redis {name} {role} connection: {error}", {
        name,
        role,
        error: error.message,
      });
    });
    connection.on(
      "ready",
      () => logger.info("redis {name} {role} connection ready", { name, role }),
    );
  }
  return [commands, subscriber];
}

/**
 * Waits until `ready()` (both connections of a Redis client are up), at
 * most `timeoutMs`, or until `closed()`; says so in the log when it gave up.
 * A node starts serving either way, unhealthy until Redis answers.
 */
export async function waitForRedis(
  what: string,
  ready: () => boolean,
  closed: () => boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready() && Date.now() < deadline && !closed()) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (!ready()) {
    logger.warning(
      "{what}: redis not reachable yet, serving unhealthy until it is",
      {
        what,
      },
    );
  }
}
