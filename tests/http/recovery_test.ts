/**
 * Integration: history (WebSocket and REST) and recovery with `since`,
 * including recovery while other clients publish.
 */

import assert from "node:assert/strict";
import { TestClient } from "../support/client.ts";
import { restPublish, serve, TEST_API_KEY } from "../support/server.ts";

async function publishAll(base: string, channel: string, count: number) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await restPublish(base, {
      channel,
      event: "n",
      payload: i,
    });
    ids.push((await response.json()).id);
  }
  return ids;
}

Deno.test("history: the last messages oldest first, over the socket and over REST", async () => {
  await using fixture = await serve({ HISTORY_SIZE: "5" });
  const ids = await publishAll(fixture.base, "room1", 7);
  await using client = await TestClient.authed(fixture.websocketUrl);
  const all = await client.ok("history", { channel: "room1" });
  const messages = all.messages as Record<string, unknown>[];
  assert.deepEqual(messages.map((message) => message.id), ids.slice(2));
  assert.deepEqual(Object.keys(messages[0] ?? {}), [
    "id",
    "createTime",
    "channel",
    "event",
    "payload",
  ]);
  assert.equal(messages[4]?.payload, 6);
  const two = await client.ok("history", { channel: "room1", limit: 2 });
  assert.deepEqual(
    (two.messages as Record<string, unknown>[]).map((message) => message.id),
    ids.slice(5),
  );

  const rest = await fetch(`${fixture.base}/history?channel=room1&limit=3`, {
    headers: { authorization: `Bearer ${TEST_API_KEY}` },
  });
  assert.equal(rest.status, 200);
  assert.deepEqual(
    (await rest.json()).messages.map((message: { id: string }) => message.id),
    ids.slice(4),
  );
});

Deno.test("recovery: messages after since are replayed after the result with seq from 1, then live ones", async () => {
  await using fixture = await serve();
  const ids = await publishAll(fixture.base, "room1", 5);
  await using client = await TestClient.authed(fixture.websocketUrl);
  const result = await client.ok("subscribe", {
    channel: "room1",
    since: ids[1],
  });
  assert.equal(result.recovered, true);
  for (let i = 2; i < 5; i++) {
    const params = await client.broadcast();
    assert.equal(params.id, ids[i]);
    assert.equal(params.seq, i - 1);
  }
  const [live] = await publishAll(fixture.base, "room1", 1);
  const params = await client.broadcast();
  assert.equal(params.id, live);
  assert.equal(params.seq, 4);
});

Deno.test("recovery: since the newest message recovers nothing, and says so truthfully", async () => {
  await using fixture = await serve();
  const ids = await publishAll(fixture.base, "room1", 2);
  await using client = await TestClient.authed(fixture.websocketUrl);
  const result = await client.ok("subscribe", {
    channel: "room1",
    since: ids[1],
  });
  assert.equal(result.recovered, true);
  assert.ok("timestamp" in await client.ok("heartbeat"));
});

Deno.test("recovery: unknown, evicted or expired since is recovered:false and replays nothing", async () => {
  let skew = 0;
  await using fixture = await serve(
    { HISTORY_SIZE: "3", HISTORY_TTL_SECONDS: "60" },
    { clock: () => Date.now() + skew },
  );
  const ids = await publishAll(fixture.base, "room1", 5);
  await using client = await TestClient.authed(fixture.websocketUrl);
  const evicted = await client.ok("subscribe", {
    channel: "room1",
    since: ids[0],
  });
  assert.equal(evicted.recovered, false);
  await client.ok("unsubscribe", { channel: "room1" });
  const unknown = await client.ok("subscribe", {
    channel: "room1",
    since: "no-such-id",
  });
  assert.equal(unknown.recovered, false);
  await client.ok("unsubscribe", { channel: "room1" });
  // Still in history: recovered.
  const kept = await client.ok("subscribe", {
    channel: "room1",
    since: ids[3],
  });
  assert.equal(kept.recovered, true);
  assert.equal((await client.broadcast()).id, ids[4]);
  await client.ok("unsubscribe", { channel: "room1" });
  // A minute later the same id has expired.
  skew = 61_000;
  const expired = await client.ok("subscribe", {
    channel: "room1",
    since: ids[3],
  });
  assert.equal(expired.recovered, false);
  // The next frame answers the heartbeat: nothing was replayed.
  assert.ok("timestamp" in await client.ok("heartbeat"));
});

Deno.test("recovery under concurrent publishes: no gap, no duplicate, in order, many times over", async () => {
  await using fixture = await serve({
    HISTORY_SIZE: "10000",
    // The publisher sends 30 publishes per round, 25 rounds, as fast as it
    // can: far past the default 100/s, which is not what this test is about.
    RATE_LIMIT: "100000",
  });
  // The witness has been subscribed all along: its stream is the publish order.
  await using witness = await TestClient.authed(fixture.websocketUrl);
  await witness.ok("subscribe", { channel: "room1" });
  await using publisher = await TestClient.authed(fixture.websocketUrl);
  const seen: string[] = [];
  const nextWitnessed = async () => {
    const id = String((await witness.broadcast()).id);
    seen.push(id);
    return id;
  };

  for (let round = 0; round < 25; round++) {
    await publishAll(fixture.base, "room1", 3);
    for (let i = 0; i < 3; i++) await nextWitnessed();
    const since = seen[seen.length - 1 - (round % 3)] ?? "";

    // Publish from two places while the recovering subscribe is under way.
    for (let i = 0; i < 30; i++) {
      publisher.send(JSON.stringify({
        method: "publish",
        params: { channel: "room1", event: "ws", payload: i },
      }));
    }
    const rest = Promise.all(
      Array.from(
        { length: 10 },
        (_, i) =>
          restPublish(fixture.base, {
            channel: "room1",
            event: "rest",
            payload: i,
          })
            .then((response) => response.body?.cancel()),
      ),
    );
    await using recovering = await TestClient.authed(fixture.websocketUrl);
    const result = await recovering.ok("subscribe", {
      channel: "room1",
      since,
    });
    assert.equal(result.recovered, true);
    await rest;
    const marker = (await (await restPublish(fixture.base, {
      channel: "room1",
      event: "marker",
    })).json()).id;

    let id: string;
    do id = await nextWitnessed(); while (id !== marker);
    const expected = seen.slice(seen.indexOf(since) + 1);
    const received: string[] = [];
    let seq = 0;
    do {
      const params = await recovering.broadcast();
      seq++;
      assert.equal(params.seq, seq, `round ${round}: seq`);
      received.push(String(params.id));
    } while (received[received.length - 1] !== marker);
    assert.deepEqual(received, expected, `round ${round}`);
  }
});
