/**
 * Scale-out: two server instances on one real Redis. Cross-node delivery and
 * order, recovery on the other node, an outage and its healing, and a dropped
 * pub/sub connection with publishes meanwhile.
 */

import assert from "node:assert/strict";
import { TestClient } from "../support/client.ts";
import { pollUntil } from "../support/observed.ts";
import { cluster } from "../support/cluster.ts";
import { RedisServer, redisTest } from "../support/redis.ts";
import {
  restPublish,
  serve,
  TEST_API_KEY,
  type TestServer,
  token,
} from "../support/server.ts";

/** A client on `node`, authenticated with `?token=`. */
async function connected(node: TestServer): Promise<TestClient> {
  return await TestClient.connect(
    `${node.websocketUrl}?token=${await token()}`,
  );
}

async function subscriber(
  node: TestServer,
  channel = "room1",
): Promise<TestClient> {
  const client = await connected(node);
  await client.ok("subscribe", { channel });
  return client;
}

async function publishAll(node: TestServer, count: number, channel = "room1") {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await restPublish(node.base, {
      channel,
      event: "n",
      payload: i,
    });
    assert.equal(response.status, 200);
    ids.push((await response.json()).id);
  }
  return ids;
}

/** Health and Redis's own state, which only polling can see: every 20 ms, up to 15 s. */
const REDIS_POLL = { timeoutMs: 15_000, intervalMs: 20 };

async function healthOf(node: TestServer): Promise<number> {
  const response = await fetch(`${node.base}/health`);
  await response.body?.cancel();
  return response.status;
}

redisTest(
  "a publish on either node reaches subscribers on both, in one order everywhere",
  async () => {
    await using nodes = await cluster();
    const { one, two } = nodes;
    await using onOne = await subscriber(one);
    await using onTwo = await subscriber(two);
    await using publisher = await connected(one);
    // Both nodes publish at once: REST on node two, WebSocket on node one.
    for (let i = 0; i < 20; i++) {
      publisher.send(JSON.stringify({
        method: "publish",
        params: { channel: "room1", event: "ws", payload: i },
      }));
    }
    const restIds = await publishAll(two, 20);
    const seen = async (client: TestClient) => {
      const ids: string[] = [];
      for (let i = 1; i <= 40; i++) {
        const params = await client.broadcast();
        assert.equal(params.seq, i);
        ids.push(String(params.id));
      }
      return ids;
    };
    const [first, second] = [await seen(onOne), await seen(onTwo)];
    assert.deepEqual(first, second, "the same order on both nodes");
    assert.deepEqual(
      first.map((id) => Number(id.split("-")[1])),
      Array.from({ length: 40 }, (_, i) => i + 1),
      "in stream order",
    );
    for (const id of restIds) assert.ok(first.includes(id));
  },
);

redisTest("recovery and history work on the other node", async () => {
  await using nodes = await cluster({ HISTORY_SIZE: "5" });
  const { one, two } = nodes;
  const ids = await publishAll(one, 7);
  await using client = await TestClient.connect(
    `${two.websocketUrl}?token=${await token()}`,
  );
  const recovered = await client.ok("subscribe", {
    channel: "room1",
    since: ids[3],
  });
  assert.equal(recovered.recovered, true);
  for (const [index, id] of ids.slice(4).entries()) {
    const params = await client.broadcast();
    assert.equal(params.id, id);
    assert.equal(params.seq, index + 1);
    assert.equal(params.payload, index + 4);
  }
  await client.ok("unsubscribe", { channel: "room1" });
  const evicted = await client.ok("subscribe", {
    channel: "room1",
    since: ids[0],
  });
  assert.equal(evicted.recovered, false);
  const history = await client.ok("history", { channel: "room1" });
  assert.deepEqual(
    (history.messages as { id: string }[]).map((message) => message.id),
    ids.slice(2),
  );
  const rest = await fetch(`${two.base}/history?channel=room1&limit=2`, {
    headers: { authorization: TEST_API_KEY },
  });
  assert.deepEqual(
    (await rest.json()).messages.map((message: { id: string }) => message.id),
    ids.slice(5),
  );
});

redisTest(
  "a position from either node, also of an empty channel, recovers exactly what came after it",
  async () => {
    await using nodes = await cluster();
    const { one, two } = nodes;
    await using first = await connected(one);
    const { position } = await first.ok("subscribe", { channel: "room2" });
    assert.match(String(position), /^[0-9a-z]+-0$/);
    await first[Symbol.asyncDispose]();
    const ids = await publishAll(two, 3, "room2");
    await using again = await connected(two);
    const recovered = await again.ok("subscribe", {
      channel: "room2",
      since: position,
    });
    assert.equal(recovered.recovered, true);
    assert.equal(recovered.position, ids[2], "the newest message's id");
    for (const [index, id] of ids.entries()) {
      const params = await again.broadcast();
      assert.deepEqual([params.id, params.seq], [id, index + 1]);
    }
  },
);

redisTest(
  "a Redis that lost its data (a flush, a restart without persistence) is a new epoch: recovered false, never a silent true",
  async () => {
    await using nodes = await cluster();
    const { redis, one, two } = nodes;
    const [beforeFlush] = await publishAll(one, 1);
    await redis.command("FLUSHALL");
    // Numbering starts over after the flush: offset 1 again, in a new epoch.
    await publishAll(one, 2);
    await using client = await connected(two);
    const flushed = await client.ok("subscribe", {
      channel: "room1",
      since: beforeFlush,
    });
    assert.equal(flushed.recovered, false);
    assert.notEqual(
      String(flushed.position).split("-")[0],
      String(beforeFlush).split("-")[0],
    );
    const position = String(flushed.position);
    await client.ok("unsubscribe", { channel: "room1" });

    await redis.stop();
    await redis.start();
    await pollUntil(
      async () =>
        (await healthOf(one)) === 200 && (await healthOf(two)) === 200,
      "health 200 on both nodes",
      REDIS_POLL,
    );
    const restarted = await client.ok("subscribe", {
      channel: "room1",
      since: position,
    });
    assert.equal(restarted.recovered, false);
  },
);

redisTest(
  "while Redis is down publishes fail loudly and health is 503; afterwards delivery resumes by itself",
  async () => {
    await using nodes = await cluster();
    const { redis, one, two } = nodes;
    await using listener = await subscriber(one);
    await publishAll(two, 1);
    assert.equal((await listener.broadcast()).seq, 1);

    await redis.stop();
    await pollUntil(
      async () => (await healthOf(two)) === 503,
      "health 503",
      REDIS_POLL,
    );
    const refused = await restPublish(two.base, {
      channel: "room1",
      event: "lost?",
    });
    assert.equal(refused.status, 503);
    assert.equal((await refused.json()).error.code, "Internal");
    await using publisher = await connected(one);
    const failed = await publisher.request("publish", {
      channel: "room1",
      event: "lost?",
    });
    assert.equal(failed.error?.code, "Internal");
    assert.match(failed.error?.message ?? "", /unavailable/);

    await redis.start();
    await pollUntil(
      async () =>
        (await healthOf(one)) === 200 && (await healthOf(two)) === 200,
      "health 200 on both nodes",
      REDIS_POLL,
    );
    await publishAll(two, 1);
    const params = await listener.broadcast();
    assert.equal(params.payload, 0);
    assert.equal(params.event, "n");
  },
);

redisTest(
  "a dropped pub/sub connection catches up from the stream: nothing published meanwhile is lost",
  async () => {
    await using nodes = await cluster();
    const { redis, one, two } = nodes;
    await using listener = await subscriber(one);
    await publishAll(two, 3);
    for (let i = 1; i <= 3; i++) {
      assert.equal((await listener.broadcast()).seq, i);
    }

    // Node one's pub/sub connections (messages, presence), and node two's
    // (which hears only the server API's commands).
    assert.equal(await redis.command("CLIENT", "KILL", "TYPE", "pubsub"), 3);
    const ids = await publishAll(two, 30);
    for (const [index, id] of ids.entries()) {
      const params = await listener.broadcast();
      assert.equal(params.id, id);
      assert.equal(params.seq, index + 4);
    }
  },
);

redisTest(
  "messages the stream no longer has show as a seq gap, never as silence",
  async () => {
    await using nodes = await cluster({ HISTORY_SIZE: "3" });
    const { redis, one, two } = nodes;
    await using listener = await subscriber(one);
    await publishAll(two, 1);
    assert.equal((await listener.broadcast()).seq, 1);
    await redis.command("CLIENT", "KILL", "TYPE", "pubsub");
    const ids = await publishAll(two, 12);
    // Whatever the reconnect timing, what arrives is in order, ends with the last
    // message, and its seq counts every message published, received or not.
    let last: Record<string, unknown> = {};
    let previousSeq = 1;
    while (last.id !== ids[ids.length - 1]) {
      last = await listener.broadcast();
      assert.ok(Number(last.seq) > previousSeq);
      previousSeq = Number(last.seq);
    }
    assert.equal(last.seq, 13);
  },
);

redisTest(
  "a node listens to a channel only while it has local subscribers",
  async () => {
    await using nodes = await cluster();
    const { redis, one } = nodes;
    // Every node always hears the server API's commands: not a channel's.
    const listened = async () =>
      ((await redis.command("PUBSUB", "CHANNELS", "*")) as string[])
        .filter((name) => name !== "broadcaster:control");
    assert.deepEqual(await listened(), []);
    await using client = await subscriber(one);
    assert.deepEqual((await listened()).sort(), [
      "broadcaster:live:room1",
      "broadcaster:presence:room1",
    ]);
    await client.ok("unsubscribe", { channel: "room1" });
    // The UNSUBSCRIBE is on its way once the answer is out: wait for Redis to see it.
    await pollUntil(
      async () => (await listened()).length === 0,
      "the channel to be dropped",
      REDIS_POLL,
    );
  },
);

redisTest(
  "scripts run by SHA are loaded again after a Redis restart",
  async () => {
    await using redis = await RedisServer.start();
    await using one = await serve({ ENGINE: "redis", REDIS_URL: redis.url });
    await publishAll(one, 1);
    await redis.stop();
    await redis.start();
    await pollUntil(
      async () => (await healthOf(one)) === 200,
      "health 200",
      REDIS_POLL,
    );
    // A fresh Redis has no script cached: NOSCRIPT, then EVAL, transparently.
    assert.equal((await publishAll(one, 2)).length, 2);
  },
);
