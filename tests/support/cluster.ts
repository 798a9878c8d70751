/**
 * Test fixture: one real `redis-server` and two nodes on it (`ENGINE=redis`),
 * disposed together.
 *
 * @module
 */

import { RedisServer } from "./redis.ts";
import { serve, type TestServer } from "./server.ts";

/** Two nodes on one Redis. */
export interface Cluster extends AsyncDisposable {
  readonly redis: RedisServer;
  readonly one: TestServer;
  readonly two: TestServer;
}

/** Starts Redis and two nodes on it; `env` adds to both nodes' settings. */
export async function cluster(
  env: Record<string, string> = {},
): Promise<Cluster> {
  const redis = await RedisServer.start();
  const options = { ENGINE: "redis", REDIS_URL: redis.url, ...env };
  const one = await serve(options);
  const two = await serve(options);
  return {
    redis,
    one,
    two,
    async [Symbol.asyncDispose]() {
      await one[Symbol.asyncDispose]();
      await two[Symbol.asyncDispose]();
      await redis[Symbol.asyncDispose]();
    },
  };
}
