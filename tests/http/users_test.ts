/**
 * Integration, SPEC §9 on one node: personal channels and direct messages,
 * wildcard grants, pattern subscriptions, and the server API (`/notify`,
 * `/disconnect`, `/channels`), with bad input refused and harming nothing.
 */

import assert from "node:assert/strict";
import { TestClient } from "../support/client.ts";
import { apiCall, restPublish, serve } from "../support/server.ts";

/** The next frame of `method`, skipping others. */
async function next(client: TestClient, method: string) {
  for (;;) {
    const frame = await client.next();
    if (frame.method === method) return frame.params ?? {};
  }
}

Deno.test("personal channels: the owner subscribes without a grant, nobody else can; direct messages need the direct scope and carry from", async () => {
  await using fixture = await serve();
  await using alice = await TestClient.authed(fixture.websocketUrl, {
    sub: "alice@example.com",
    authorizedChannels: ["room1"],
  });
  await alice.ok("subscribe", { channel: "#alice@example.com" });
  // Bob's grant names the channel: still not his to read.
  await using bob = await TestClient.authed(fixture.websocketUrl, {
    sub: "bob",
    authorizedChannels: ["#alice@example.com", "room1"],
    scope: ["subscribe", "direct"],
  });
  const denied = await bob.request("subscribe", {
    channel: "#alice@example.com",
  });
  assert.equal(denied.error?.code, "PermissionDenied");
  await bob.ok("publish", {
    channel: "#alice@example.com",
    event: "dm",
    payload: "hi",
  });
  const dm = await alice.broadcast();
  assert.equal(dm.from, "bob");
  assert.equal(dm.payload, "hi");
  // A back-end's message to it has no sender.
  await (await restPublish(fixture.base, {
    channel: "#alice@example.com",
    event: "system",
  })).body?.cancel();
  assert.equal("from" in await alice.broadcast(), false);
  const history = await alice.ok("history", { channel: "#alice@example.com" });
  assert.deepEqual(
    (history.messages as Record<string, unknown>[]).map((m) => m.from),
    ["bob", undefined],
  );
  // Without the direct scope: refused, whatever the other scopes.
  await using carol = await TestClient.authed(fixture.websocketUrl, {
    sub: "carol",
    scope: ["subscribe", "publish"],
  });
  const refused = await carol.request("publish", {
    channel: "#alice@example.com",
    event: "dm",
  });
  assert.equal(refused.error?.code, "PermissionDenied");
  assert.match(refused.error?.message ?? "", /direct/);
  // Names: control characters and over 255 characters are not channels.
  for (const channel of ["#al\u0007ice", `#${"a".repeat(255)}`, "#"]) {
    const bad = await alice.request("subscribe", { channel });
    assert.equal(bad.error?.code, "InvalidArgument", channel);
  }
});

Deno.test("wildcard grants: * is one segment, a last > one or more", async () => {
  await using fixture = await serve();
  await using one = await TestClient.authed(fixture.websocketUrl, {
    authorizedChannels: ["updates:*"],
  });
  await one.ok("subscribe", { channel: "updates:a" });
  assert.equal(
    (await one.request("subscribe", { channel: "updates:a:b" })).error?.code,
    "PermissionDenied",
  );
  assert.equal(
    (await one.request("subscribe", { channel: "updates" })).error?.code,
    "PermissionDenied",
  );
  await using many = await TestClient.authed(fixture.websocketUrl, {
    authorizedChannels: ["updates:>"],
  });
  await many.ok("subscribe", { channel: "updates:a" });
  await many.ok("subscribe", { channel: "updates:a:b" });
});

Deno.test("pattern subscriptions: every matching channel, its own channel and the pattern, one seq; since and publish refused", async () => {
  await using fixture = await serve();
  await using watcher = await TestClient.authed(fixture.websocketUrl, {
    authorizedChannels: ["updates:>"],
    scope: ["subscribe", "publish"],
  });
  const result = await watcher.ok("subscribe", { channel: "updates:*" });
  assert.equal("position" in result, false, "a pattern has no stream position");
  for (const channel of ["updates:a", "updates:a:b", "other:a", "updates:b"]) {
    await (await restPublish(fixture.base, { channel, event: "e" })).body
      ?.cancel();
  }
  const first = await watcher.broadcast();
  const second = await watcher.broadcast();
  assert.deepEqual(
    [first.channel, first.seq, first.pattern],
    ["updates:a", 1, "updates:*"],
  );
  assert.deepEqual([second.channel, second.seq], ["updates:b", 2]);
  // A pattern subscription is no presence member of the channels it matches.
  assert.deepEqual(
    await watcher.ok("presenceStats", { channel: "updates:a" }),
    { connections: 0, users: 0 },
  );
  assert.equal(
    (await watcher.request("subscribe", { channel: "updates:>", since: "x-1" }))
      .error?.code,
    "InvalidArgument",
  );
  assert.equal(
    (await watcher.request("publish", { channel: "updates:*", event: "e" }))
      .error?.code,
    "InvalidArgument",
  );
  for (const channel of ["a:>:b", "**", "updates::*", "updates:*x"]) {
    assert.equal(
      (await watcher.request("subscribe", { channel })).error?.code,
      "InvalidArgument",
      channel,
    );
  }
  // A pattern reaching further than the grant is not covered.
  await using narrow = await TestClient.authed(fixture.websocketUrl, {
    authorizedChannels: ["updates:*"],
  });
  assert.equal(
    (await narrow.request("subscribe", { channel: "updates:>" })).error?.code,
    "PermissionDenied",
  );
  await watcher.ok("unsubscribe", { channel: "updates:*" });
});

Deno.test("server API: notify everyone or listed users, disconnect a user with 4003, the occupied channels", async () => {
  await using fixture = await serve();
  await using alice = await TestClient.authed(fixture.websocketUrl, {
    sub: "alice",
  });
  await using alice2 = await TestClient.authed(fixture.websocketUrl, {
    sub: "alice",
  });
  await using bob = await TestClient.authed(fixture.websocketUrl, {
    sub: "bob",
  });
  // Connected, never authenticated: /notify is for authenticated connections.
  await using stranger = await TestClient.connect(fixture.websocketUrl);
  await alice.ok("subscribe", { channel: "room1" });
  await bob.ok("subscribe", { channel: "room1" });
  await bob.ok("subscribe", { channel: "room2" });

  const everyone = await apiCall(fixture, "/notify", {
    event: "maintenance",
    payload: { at: "noon" },
  });
  assert.equal(everyone.status, 200);
  assert.equal(typeof everyone.body.createTime, "string");
  for (const client of [alice, alice2, bob]) {
    assert.deepEqual(await next(client, "notification"), {
      event: "maintenance",
      payload: { at: "noon" },
      createTime: everyone.body.createTime,
    });
  }
  await apiCall(fixture, "/notify", { event: "only-bob", users: ["bob"] });
  assert.equal((await next(bob, "notification")).event, "only-bob");
  // The stranger got neither: nothing but the answer to its own request.
  assert.ok("timestamp" in await stranger.ok("heartbeat"));
  await assert.rejects(stranger.next(300), /no frame/);

  assert.deepEqual(await apiCall(fixture, "/channels"), {
    status: 200,
    body: {
      channels: [
        { channel: "room1", connections: 2 },
        { channel: "room2", connections: 1 },
      ],
    },
  });
  assert.deepEqual(
    (await apiCall(fixture, "/channels?prefix=room2")).body,
    { channels: [{ channel: "room2", connections: 1 }] },
  );

  const out = await apiCall(fixture, "/disconnect", {
    user: "alice",
    reason: "account suspended",
  });
  assert.deepEqual(out, { status: 200, body: {} });
  for (const client of [alice, alice2]) {
    const closed = await client.closed;
    assert.deepEqual([closed.code, closed.reason], [4003, "account suspended"]);
  }
  assert.deepEqual(await apiCall(fixture, "/disconnect", { user: "nobody" }), {
    status: 200,
    body: {},
  });
  // Bob is untouched, and alice no longer counts.
  assert.ok("timestamp" in await bob.ok("heartbeat"));
  assert.deepEqual((await apiCall(fixture, "/channels?prefix=room1")).body, {
    channels: [{ channel: "room1", connections: 1 }],
  });
});

Deno.test("server API: bad bodies are 400 with a reason, without a key 401", async () => {
  await using fixture = await serve();
  for (
    const [path, body] of [
      ["/notify", {}],
      ["/notify", { event: "" }],
      ["/notify", { event: "e", users: "bob" }],
      ["/notify", { event: "e", users: [1] }],
      ["/disconnect", {}],
      ["/disconnect", { user: 42 }],
      ["/disconnect", { user: "a", reason: "x".repeat(200) }],
    ] as const
  ) {
    const answer = await apiCall(fixture, path, body);
    assert.equal(answer.status, 400, `${path} ${JSON.stringify(body)}`);
    assert.equal(
      (answer.body.error as { code: string }).code,
      "InvalidArgument",
    );
  }
  const anonymous = await fetch(`${fixture.base}/notify`, {
    method: "POST",
    body: JSON.stringify({ event: "e" }),
  });
  await anonymous.body?.cancel();
  assert.equal(anonymous.status, 401);
});
