/**
 * SPEC §9 across two real nodes on a real `redis-server`: a pattern
 * subscription on one node gets what is published on the other (each
 * message once, however many patterns' globs it matches), and `/notify`,
 * `/disconnect` and `/channels` asked of one node act on both.
 */

import assert from "node:assert/strict";
import { TestClient } from "../support/client.ts";
import { cluster } from "../support/cluster.ts";
import { RedisServer, redisTest } from "../support/redis.ts";
import { apiCall, restPublish, serve } from "../support/server.ts";

async function next(client: TestClient, method: string) {
  for (;;) {
    const frame = await client.next();
    if (frame.method === method) return frame.params ?? {};
  }
}

redisTest(
  "a pattern subscription on one node gets the other node's publishes, each once, one seq",
  async () => {
    await using nodes = await cluster();
    await using watcher = await TestClient.authed(nodes.one.websocketUrl, {
      authorizedChannels: [">"],
    });
    // Two patterns whose globs overlap on updates:a: each counts it once.
    await watcher.ok("subscribe", { channel: "updates:*" });
    await watcher.ok("subscribe", { channel: "*:a" });
    for (const channel of ["updates:a", "updates:b", "news:a", "updates:a:b"]) {
      await (await restPublish(nodes.two.base, { channel, event: "e" })).body
        ?.cancel();
    }
    const received: string[] = [];
    for (let i = 0; i < 4; i++) {
      const params = await watcher.broadcast();
      received.push(`${params.pattern} ${params.channel} ${params.seq}`);
    }
    assert.deepEqual(received.sort(), [
      "*:a news:a 2",
      "*:a updates:a 1",
      "updates:* updates:a 1",
      "updates:* updates:b 2",
    ]);
  },
);

redisTest(
  "notify, disconnect and channels asked of one node act on both",
  async () => {
    await using nodes = await cluster();
    const { one, two } = nodes;
    await using aliceOne = await TestClient.authed(one.websocketUrl, {
      sub: "alice",
    });
    await using aliceTwo = await TestClient.authed(two.websocketUrl, {
      sub: "alice",
    });
    await using bob = await TestClient.authed(two.websocketUrl, { sub: "bob" });
    await aliceOne.ok("subscribe", { channel: "room1" });
    await aliceTwo.ok("subscribe", { channel: "room1" });
    await bob.ok("subscribe", { channel: "room2" });

    assert.equal(
      (await apiCall(one, "/notify", { event: "hello", users: ["alice"] }))
        .status,
      200,
    );
    assert.equal((await next(aliceOne, "notification")).event, "hello");
    assert.equal((await next(aliceTwo, "notification")).event, "hello");
    await apiCall(two, "/notify", { event: "all" });
    assert.equal((await next(bob, "notification")).event, "all");

    assert.deepEqual((await apiCall(one, "/channels")).body, {
      channels: [
        { channel: "room1", connections: 2 },
        { channel: "room2", connections: 1 },
      ],
    });

    assert.deepEqual(await apiCall(two, "/disconnect", { user: "alice" }), {
      status: 200,
      body: {},
    });
    for (const client of [aliceOne, aliceTwo]) {
      assert.equal((await client.closed).code, 4003);
    }
    assert.ok("timestamp" in await bob.ok("heartbeat"));
    assert.deepEqual((await apiCall(two, "/channels?prefix=room")).body, {
      channels: [{ channel: "room2", connections: 1 }],
    });
  },
);

redisTest(
  "a node listens to a pattern's glob while any of its subscriptions needs it, and only then",
  async () => {
    await using redis = await RedisServer.start();
    await using node = await serve({ ENGINE: "redis", REDIS_URL: redis.url });
    const patterns = async () =>
      Number(await redis.command("PUBSUB", "NUMPAT"));
    const watch = async () => {
      const client = await TestClient.authed(node.websocketUrl, {
        authorizedChannels: ["updates:>"],
      });
      await client.ok("subscribe", { channel: "updates:*" });
      return client;
    };
    await using first = await watch();
    await using second = await watch();
    assert.equal(await patterns(), 1);
    await first.ok("unsubscribe", { channel: "updates:*" });
    await (await restPublish(node.base, { channel: "updates:a", event: "e" }))
      .body
      ?.cancel();
    assert.equal((await second.broadcast()).channel, "updates:a");
    await second.ok("unsubscribe", { channel: "updates:*" });
    const { pollUntil } = await import("../support/observed.ts");
    await pollUntil(
      async () => await patterns() === 0,
      "the glob to be dropped",
      {
        timeoutMs: 5_000,
        intervalMs: 20,
      },
    );
  },
);
