/**
 * Integration, SPEC §10: webhooks to a real local receiver. Signed, batched
 * within 100 ms, in order, retried after 500s with the default backoff, and
 * each occupied/vacated transition sent once across two real nodes on a
 * real Redis.
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { TestClient } from "../support/client.ts";
import { Observed } from "../support/observed.ts";
import { RedisServer, redisTest } from "../support/redis.ts";
import { seriesValue, serve } from "../support/server.ts";

const SECRET = "webhook-secret-for-tests";

interface Post {
  readonly timeMs: number;
  readonly events: Record<string, unknown>[];
}

/** A back-end on a free port: failing the first `failures` POSTs with 500. */
function receiver(failures = 0) {
  const posts = new Observed<Post>();
  const bodies: { body: string; signature: string | null }[] = [];
  let failed = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const body = await request.text();
      if (failed < failures) {
        failed++;
        return new Response("down", { status: 500 });
      }
      bodies.push({
        body,
        signature: request.headers.get("x-broadcaster-signature"),
      });
      posts.push(JSON.parse(body));
      return new Response(null, { status: 204 });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/webhooks`,
    posts,
    bodies,
    events: () => posts.values.flatMap((post) => post.events),
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

async function configFile(url: string, events: string[]): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(
    file,
    JSON.stringify({ webhooks: [{ url, secret: SECRET, events }] }),
  );
  return file;
}

const names = (events: Record<string, unknown>[]) =>
  events.map((event) =>
    [event.name, event.channel, event.user, event.event].filter((part) =>
      part !== undefined
    ).join(" ")
  );

Deno.test("signed, batched within 100 ms, in order: occupied, member added, client events", async () => {
  await using hook = receiver();
  const file = await configFile(hook.url, [
    "channel_occupied",
    "member_added",
    "client_event",
  ]);
  try {
    await using fixture = await serve({ CONFIG_FILE: file });
    await using alice = await TestClient.authed(fixture.websocketUrl, {
      sub: "alice",
      scope: ["subscribe", "publish"],
    });
    await alice.ok("subscribe", { channel: "room1" });
    for (let i = 0; i < 3; i++) {
      await alice.ok("publish", {
        channel: "room2",
        event: `e${i}`,
        payload: i,
      });
    }
    await hook.posts.until(
      () => hook.events().length >= 5,
      "five events",
    );
    assert.deepEqual(names(hook.events()), [
      "channel_occupied room1",
      "member_added room1 alice",
      "client_event room2 alice e0",
      "client_event room2 alice e1",
      "client_event room2 alice e2",
    ]);
    assert.equal(hook.events()[2]?.payload, 0);
    assert.ok(hook.posts.values.length <= 2, "batched, not one POST per event");
    for (const { body, signature } of hook.bodies) {
      assert.equal(
        signature,
        `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`,
      );
    }
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("a back-end answering 500 gets the same events again with backoff, once accepted, in order", async () => {
  await using hook = receiver(2);
  const file = await configFile(hook.url, ["client_event"]);
  try {
    await using fixture = await serve({ CONFIG_FILE: file });
    await using alice = await TestClient.authed(fixture.websocketUrl, {
      scope: ["publish"],
    });
    for (let i = 0; i < 20; i++) {
      await alice.ok("publish", { channel: "room1", event: `e${i}` });
    }
    // Default backoff: 1 s, then 2 s.
    await hook.posts.until(
      () => hook.events().length >= 20,
      "twenty events",
      10_000,
    );
    assert.deepEqual(
      hook.events().map((event) => event.event),
      Array.from({ length: 20 }, (_, i) => `e${i}`),
    );
    const metrics = await (await fetch(`${fixture.base}/metrics`)).text();
    assert.equal(seriesValue(metrics, "broadcaster_webhook_failures_total"), 2);
    assert.equal(seriesValue(metrics, "broadcaster_webhook_retries_total"), 2);
    assert.equal(seriesValue(metrics, "broadcaster_webhook_queue"), 0);
  } finally {
    await Deno.remove(file);
  }
});

redisTest(
  "two nodes on Redis: each occupied and vacated transition is sent once, member events once per user",
  async () => {
    await using hook = receiver();
    const file = await configFile(hook.url, [
      "channel_occupied",
      "channel_vacated",
      "member_added",
      "member_removed",
    ]);
    try {
      await using redis = await RedisServer.start();
      const env = { ENGINE: "redis", REDIS_URL: redis.url, CONFIG_FILE: file };
      await using one = await serve(env);
      await using two = await serve(env);
      const alice = await TestClient.authed(one.websocketUrl, { sub: "alice" });
      await alice.ok("subscribe", { channel: "room1" });
      const bob = await TestClient.authed(two.websocketUrl, { sub: "bob" });
      await bob.ok("subscribe", { channel: "room1" });
      await alice[Symbol.asyncDispose]();
      await bob[Symbol.asyncDispose]();
      // The leaves follow the default 5 s delay.
      await hook.posts.until(
        () =>
          hook.events().filter((e) => e.name === "member_removed").length === 2,
        "two member_removed",
        10_000,
      );
      const sorted = names(hook.events()).sort();
      assert.deepEqual(sorted, [
        "channel_occupied room1",
        "channel_vacated room1",
        "member_added room1 alice",
        "member_added room1 bob",
        "member_removed room1 alice",
        "member_removed room1 bob",
      ]);
    } finally {
      await Deno.remove(file);
    }
  },
);
