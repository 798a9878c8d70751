/**
 * Integration, SPEC §8 on one node: members with their info, join and leave
 * per user after the default leave delay (a return within it silent),
 * batched occupancy, REST, the member cap, and bad input.
 */

import assert from "node:assert/strict";
import { TestClient } from "../support/client.ts";
import {
  seriesValue,
  serve,
  TEST_API_KEY,
  type TestServer,
  token,
} from "../support/server.ts";

const ALICE = { sub: "alice", info: { name: "Alice" } };
const BOB = { sub: "bob" };

/** An observer of room1 with join/leave and occupancy. */
async function observer(fixture: TestServer): Promise<TestClient> {
  const client = await TestClient.authed(fixture.websocketUrl, BOB);
  await client.ok("subscribe", {
    channel: "room1",
    joinLeave: true,
    occupancy: true,
  });
  return client;
}

/** The next notification of `method`, skipping the others. */
async function next(client: TestClient, method: string) {
  for (;;) {
    const frame = await client.next();
    if (frame.method === method) return frame.params ?? {};
  }
}

async function rest(fixture: TestServer, path: string, key = TEST_API_KEY) {
  const response = await fetch(`${fixture.base}${path}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  return { status: response.status, body: await response.json() };
}

Deno.test("at the defaults: join with info, members and counts over the socket and REST, a return within 5 s silent, leave 5 s after the last connection", async () => {
  await using fixture = await serve();
  await using bob = await observer(fixture);
  const first = await TestClient.authed(fixture.websocketUrl, ALICE);
  await first.ok("subscribe", { channel: "room1" });
  assert.deepEqual(await next(bob, "join"), {
    channel: "room1",
    user: "alice",
    info: { name: "Alice" },
  });
  const presence = await bob.ok("presence", { channel: "room1" });
  assert.equal(presence.connections, 2);
  assert.equal(presence.users, 2);
  assert.equal("truncated" in presence, false);
  const members = presence.members as Record<string, unknown>[];
  assert.deepEqual(
    members.map((member) => [member.user, "info" in member]).sort(),
    [["alice", true], ["bob", false]],
  );
  assert.deepEqual(await bob.ok("presenceStats", { channel: "room1" }), {
    connections: 2,
    users: 2,
  });
  assert.deepEqual(
    (await rest(fixture, "/presence/stats?channel=room1")).body,
    { connections: 2, users: 2 },
  );
  const overRest = await rest(fixture, "/presence?channel=room1");
  assert.deepEqual(overRest.body, presence);
  assert.equal(
    (await rest(fixture, "/presence?channel=room1", "nope")).status,
    401,
  );
  assert.equal((await rest(fixture, "/presence")).status, 400);

  // Alice's connection drops and she is back at once: counts move, nobody hears of it.
  await first[Symbol.asyncDispose]();
  const second = await TestClient.authed(fixture.websocketUrl, ALICE);
  await second.ok("subscribe", { channel: "room1" });
  // Then she leaves for good: counts drop at once, the leave waits 5 s.
  await second[Symbol.asyncDispose]();
  const gone = performance.now();
  assert.deepEqual(
    await bob.ok("presenceStats", { channel: "room1" }),
    { connections: 1, users: 1 },
  );
  assert.deepEqual(await next(bob, "leave"), {
    channel: "room1",
    user: "alice",
  });
  const waited = performance.now() - gone;
  assert.ok(waited >= 4_900 && waited < 7_000, `leave after ${waited} ms`);
  // Between the join and the leave: no second join, no leave for the quick return.
  const metrics = await (await fetch(`${fixture.base}/metrics`)).text();
  assert.equal(
    seriesValue(
      metrics,
      'broadcaster_presence_notifications_total{kind="join"}',
    ),
    1,
  );
  assert.equal(
    seriesValue(
      metrics,
      'broadcaster_presence_notifications_total{kind="leave"}',
    ),
    1,
  );
  assert.equal(seriesValue(metrics, "broadcaster_presence_members"), 1);
  assert.equal(
    seriesValue(
      metrics,
      'broadcaster_presence_queries_total{kind="presence",transport="websocket"}',
    ),
    1,
  );
  assert.equal(
    seriesValue(
      metrics,
      'broadcaster_presence_queries_total{kind="presence",transport="rest"}',
    ),
    1,
  );
});

Deno.test("occupancy: batched updates with peak and change", async () => {
  await using fixture = await serve();
  await using bob = await observer(fixture);
  // Its own subscribe is the first change: 1 connection.
  assert.deepEqual(await next(bob, "occupancy"), {
    channel: "room1",
    connections: 1,
    users: 1,
    peak: 1,
    change: 1,
  });
  const viewers: TestClient[] = [];
  for (let i = 0; i < 20; i++) {
    const viewer = await TestClient.authed(fixture.websocketUrl, {
      sub: `v${i}`,
    });
    await viewer.ok("subscribe", { channel: "room1" });
    viewers.push(viewer);
  }
  let update = await next(bob, "occupancy");
  while (update.connections !== 21) update = await next(bob, "occupancy");
  assert.equal(update.peak, 21);
  for (const viewer of viewers.splice(0, 5)) {
    await viewer[Symbol.asyncDispose]();
  }
  update = await next(bob, "occupancy");
  while (update.connections !== 16) update = await next(bob, "occupancy");
  assert.equal(update.peak, 21, "the peak stays while the channel is occupied");
  assert.ok(Number(update.change) < 0);
  for (const viewer of viewers) await viewer[Symbol.asyncDispose]();
});

Deno.test("the member list is capped at PRESENCE_MAX_MEMBERS, truncated past it", async () => {
  // Tuned: a cap of 2 instead of creating 1001 connections.
  await using fixture = await serve({ PRESENCE_MAX_MEMBERS: "2" });
  const clients: TestClient[] = [];
  for (let i = 0; i < 3; i++) {
    const client = await TestClient.authed(fixture.websocketUrl, {
      sub: `u${i}`,
    });
    await client.ok("subscribe", { channel: "room1" });
    clients.push(client);
  }
  const presence = await clients[0]?.ok("presence", { channel: "room1" });
  assert.equal((presence?.members as unknown[]).length, 2);
  assert.equal(presence?.truncated, true);
  assert.equal(presence?.connections, 3);
  for (const client of clients) await client[Symbol.asyncDispose]();
});

Deno.test("at the default PRESENCE_MAX_MEMBERS: 1000 members listed of 1001, truncated", async () => {
  await using fixture = await serve();
  const credentials = await token();
  const clients: TestClient[] = [];
  try {
    for (let i = 0; i < 1001; i++) {
      const client = await TestClient.connect(
        `${fixture.websocketUrl}?token=${credentials}`,
      );
      clients.push(client);
      client.sendRequest("subscribe", { channel: "room1" });
    }
    // Each answered its subscribe: all 1001 are members.
    for (const client of clients) assert.ok((await client.next()).result);
    const presence = await clients[0]?.ok("presence", { channel: "room1" });
    assert.equal((presence?.members as unknown[]).length, 1000);
    assert.equal(presence?.truncated, true);
    assert.equal(presence?.connections, 1001);
  } finally {
    await Promise.all(clients.map((client) => client[Symbol.asyncDispose]()));
  }
});

Deno.test("bad input: an oversized info, a pattern, a channel the token does not allow; nobody else is harmed", async () => {
  await using fixture = await serve();
  await using bob = await observer(fixture);
  await using mallory = await TestClient.connect(fixture.websocketUrl);
  const { mintToken } = await import("../../src/auth/jwt.ts");
  const { TEST_SECRET, DEFAULT_CLAIMS } = await import("../support/server.ts");
  const oversized = mintToken(TEST_SECRET, {
    ...DEFAULT_CLAIMS,
    sub: "mallory",
    info: { blob: "x".repeat(2000) },
  }, Date.now());
  const refused = await mallory.request("auth", { token: oversized });
  assert.equal(refused.error?.code, "InvalidArgument");
  assert.match(refused.error?.message ?? "", /info/);
  await using carol = await TestClient.authed(fixture.websocketUrl, {
    sub: "carol",
  });
  assert.equal(
    (await carol.request("presence", { channel: "room:*" })).error?.code,
    "InvalidArgument",
  );
  assert.equal(
    (await carol.request("presence", { channel: "secret" })).error?.code,
    "PermissionDenied",
  );
  assert.equal(
    (await carol.request("presenceStats", { channel: "secret" })).error?.code,
    "PermissionDenied",
  );
  // Bob's view is untouched: he is the only member.
  assert.deepEqual(await bob.ok("presenceStats", { channel: "room1" }), {
    connections: 1,
    users: 1,
  });
});
