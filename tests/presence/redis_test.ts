/**
 * Presence on Redis (SPEC §8): real nodes on a real `redis-server`. Counts
 * and members agree on every node, join and leave are sent once per
 * transition however many nodes there are, and the members of a node killed
 * with `kill -9` disappear within 60 s.
 */

import assert from "node:assert/strict";
import { TestClient } from "../support/client.ts";
import { spawnServer } from "../support/process.ts";
import { RedisServer, redisTest } from "../support/redis.ts";
import { serve, token } from "../support/server.ts";

async function stats(base: string, channel = "room1") {
  const { TEST_API_KEY } = await import("../support/server.ts");
  const response = await fetch(`${base}/presence/stats?channel=${channel}`, {
    headers: { authorization: `Bearer ${TEST_API_KEY}` },
  });
  return await response.json() as { connections: number; users: number };
}

redisTest(
  "two nodes: the same counts and members on both; join and leave once per transition",
  async () => {
    await using redis = await RedisServer.start();
    const env = { ENGINE: "redis", REDIS_URL: redis.url };
    await using one = await serve(env);
    await using two = await serve(env);
    // An observer on each node, so each node listens to the channel's events.
    const watch = async (url: string, sub: string) => {
      const client = await TestClient.authed(url, { sub });
      await client.ok("subscribe", { channel: "room1", joinLeave: true });
      return client;
    };
    await using onOne = await watch(one.websocketUrl, "watcher-1");
    await using onTwo = await watch(two.websocketUrl, "watcher-2");
    // Alice on both nodes at once: one join, seen once by each observer.
    const aliceOne = await TestClient.authed(one.websocketUrl, {
      sub: "alice",
      info: { name: "Alice" },
    });
    await aliceOne.ok("subscribe", { channel: "room1" });
    const aliceTwo = await TestClient.authed(two.websocketUrl, {
      sub: "alice",
    });
    await aliceTwo.ok("subscribe", { channel: "room1" });
    assert.deepEqual(await stats(one.base), { connections: 4, users: 3 });
    assert.deepEqual(await stats(two.base), { connections: 4, users: 3 });
    const members = async (client: TestClient) =>
      ((await client.ok("presence", { channel: "room1" })).members as {
        connectionId: string;
      }[]).map((member) => member.connectionId).sort();
    assert.deepEqual(await members(onOne), await members(onTwo));

    await aliceOne[Symbol.asyncDispose]();
    await aliceTwo[Symbol.asyncDispose]();
    assert.deepEqual(await stats(two.base), { connections: 2, users: 2 });
    // Each observer: watcher-2's join (for onOne), alice's join, alice's leave (after 5 s).
    const heard = async (client: TestClient, until: string) => {
      const frames: string[] = [];
      while (frames.at(-1) !== until) {
        // The leave comes after the 5 s delay.
        const frame = await client.next(10_000);
        if (frame.method === "join" || frame.method === "leave") {
          frames.push(`${frame.method} ${frame.params?.user}`);
        }
      }
      return frames;
    };
    assert.deepEqual(await heard(onOne, "leave alice"), [
      "join watcher-2",
      "join alice",
      "leave alice",
    ]);
    assert.deepEqual(await heard(onTwo, "leave alice"), [
      "join alice",
      "leave alice",
    ]);
  },
);

redisTest(
  "the members of a node killed with kill -9 disappear within 60 s, and their users' leave goes out",
  async () => {
    await using redis = await RedisServer.start();
    const env = { ENGINE: "redis", REDIS_URL: redis.url };
    await using survivor = await serve(env);
    await using doomed = await spawnServer(env);
    await using watcher = await TestClient.authed(survivor.websocketUrl, {
      sub: "watcher",
    });
    await watcher.ok("subscribe", { channel: "room1", joinLeave: true });
    const victims: TestClient[] = [];
    for (let i = 0; i < 3; i++) {
      const victim = await TestClient.connect(
        `${doomed.websocketUrl}?token=${await token({ sub: `victim${i}` })}`,
      );
      await victim.ok("subscribe", { channel: "room1" });
      victims.push(victim);
    }
    assert.deepEqual(await stats(survivor.base), { connections: 4, users: 4 });
    doomed.child.kill("SIGKILL");
    const killed = performance.now();
    let left = 0;
    while (left < 3) {
      const frame = await watcher.next(70_000);
      if (frame.method === "leave") left++;
    }
    const seconds = (performance.now() - killed) / 1000;
    assert.ok(seconds <= 60, `gone after ${seconds.toFixed(1)} s`);
    assert.deepEqual(await stats(survivor.base), { connections: 1, users: 1 });
    console.log(
      `the killed node's members disappeared after ${seconds.toFixed(1)} s`,
    );
    for (const victim of victims) await victim[Symbol.asyncDispose]();
  },
);
