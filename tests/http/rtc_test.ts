/**
 * Integration, SPEC §11 (first row) and document `002`: the Real-time
 * Communication Service protocol at `/ws`, against a real server with real
 * `WebSocket` clients: authentication three ways, the welcome, topics and
 * patterns, broadcasts both ways with native clients and REST, direct
 * messages, presence, notifications, token expiry, binary frames, `X-`
 * types, limits and bad input. Default settings unless a test says why.
 */

import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { TestClient } from "../support/client.ts";
import { RtcClient, rtcUrl } from "../support/rtc_client.ts";
import {
  apiCall,
  handler,
  restPublish,
  serve,
  serveWithConfig,
  token,
} from "../support/server.ts";

/** Claims of an RTC user who may use chat.general and every updates.* topic. */
const CHAT = {
  authorizedChannels: ["chat:general", "updates:*"],
  scope: ["subscribe", "publish", "direct"],
};

Deno.test("rtc: the token by query, Authorization header or subprotocol (echoed); the welcome Status", async () => {
  await using fixture = await serve();
  const url = rtcUrl(fixture.base);
  const before = Math.floor(Date.now() / 1000);
  for (const carrier of ["query", "header", "subprotocol"] as const) {
    await using client = await RtcClient.connect(url, CHAT, carrier);
    const welcome = client.frames.values[0];
    assert.equal(welcome?.type, "Status");
    assert.equal(welcome.data.status, "connected");
    const details = welcome.data.details;
    assert.deepEqual(Object.keys(details), [
      "connection_id",
      "server_time",
      "protocol_version",
      "features",
    ]);
    assert.equal(typeof details.connection_id, "string");
    assert.ok(details.server_time >= before, "server_time in Unix seconds");
    assert.ok(details.server_time <= Math.ceil(Date.now() / 1000));
    assert.equal(details.protocol_version, "1.0");
    assert.deepEqual(details.features, [
      "broadcast",
      "direct_message",
      "presence",
      "history",
    ]);
    if (carrier === "subprotocol") {
      assert.match(client.socket.protocol, /^access_token\.ey/);
    } else {
      assert.equal(client.socket.protocol, "");
    }
  }
});

Deno.test("rtc: a missing, bad or expired token is refused with 401 before the upgrade", async () => {
  await using fixture = await handler();
  const upgrade = (query: string, headers: Record<string, string> = {}) =>
    fixture.handle(
      new Request(`http://localhost/ws${query}`, {
        headers: { upgrade: "websocket", ...headers },
      }),
    );
  for (
    const response of [
      await upgrade(""),
      await upgrade("?token=nonsense"),
      await upgrade(`?token=${token({ ttlSeconds: -120 })}`),
      await upgrade("", { authorization: "Bearer nonsense" }),
      await upgrade("", { "sec-websocket-protocol": "access_token.nonsense" }),
    ]
  ) {
    assert.equal(response.status, 401);
    const body = await response.json();
    assert.equal(body.type, "Error");
    assert.equal(body.data.code, 401);
    assert.equal(typeof body.data.message, "string");
  }
  const plain = await fixture.handle(new Request("http://localhost/ws"));
  assert.equal(plain.status, 426, "not an upgrade");
  assert.equal((await plain.json()).data.code, 426);
});

Deno.test("rtc: Ping/Pong; Subscribe and Unsubscribe answered with Status and active_subscriptions, and an Ack when the message has an id", async () => {
  await using fixture = await serve();
  await using client = await RtcClient.connect(rtcUrl(fixture.base), CHAT);
  client.send("Ping", { timestamp: 1234567890 });
  assert.deepEqual(await client.next("Pong"), { timestamp: 1234567890 });
  client.send("Subscribe", { topics: ["chat.general", "updates.*"] });
  assert.deepEqual(await client.next("Status"), {
    status: "subscribed",
    details: {
      topics: ["chat.general", "updates.*"],
      active_subscriptions: 2,
    },
  });
  const ack = await client.request(
    "Subscribe",
    { topics: ["chat.general"] },
    "sub-2",
  );
  assert.deepEqual(ack.data, {
    message_id: "sub-2",
    status: "subscribed",
    topics: ["chat.general"],
    active_subscriptions: 2,
  }, "a topic already subscribed stays one subscription");
  client.send("Unsubscribe", { topics: ["chat.general"] });
  assert.deepEqual(
    await client.next("Status", (data) => data.status === "unsubscribed"),
    {
      status: "unsubscribed",
      details: { topics: ["chat.general"], active_subscriptions: 1 },
    },
  );
});

Deno.test("rtc: broadcasts cross protocols: REST and native publishes reach RTC topics; an RTC Broadcast reaches native subscribers; its Ack counts them all", async () => {
  await using fixture = await serve();
  await using rtc = await RtcClient.connect(rtcUrl(fixture.base), CHAT);
  await rtc.subscribe("chat.general");
  await using native = await TestClient.authed(fixture.websocketUrl, {
    sub: "nat",
    authorizedChannels: ["chat:general"],
  });
  await native.ok("subscribe", { channel: "chat:general" });

  const published = await restPublish(fixture.base, {
    channel: "chat:general",
    event: "news",
    payload: { message: "from REST" },
  });
  const { id, createTime } = await published.json();
  assert.deepEqual(await rtc.next("Broadcast"), {
    topic: "chat.general",
    payload: { message: "from REST" },
    metadata: {
      sent_at: Math.floor(Date.parse(createTime) / 1000),
      message_id: id,
      event: "news",
    },
  });
  await native.broadcast();

  const payload = {
    message: "Hello everyone!",
    sender: "user123",
    metadata: { mood: "happy" },
  };
  const ack = await rtc.request(
    "Broadcast",
    { topic: "chat.general", payload },
    "msg_123456",
  );
  assert.deepEqual(ack, {
    type: "Ack",
    data: { message_id: "msg_123456", status: "delivered", recipients: 2 },
  });
  const delivered = await rtc.next("Broadcast");
  assert.deepEqual(delivered.payload, payload, "the publisher gets its own");
  const seen = await native.broadcast();
  assert.equal(seen.channel, "chat:general");
  assert.equal(seen.event, "Broadcast");
  assert.deepEqual(seen.payload, payload);
  assert.equal(seen.id, delivered.metadata.message_id);
});

Deno.test("rtc: updates.* is a pattern subscription: every updates channel arrives on its own topic", async () => {
  await using fixture = await serve();
  await using rtc = await RtcClient.connect(rtcUrl(fixture.base), CHAT);
  await rtc.subscribe("updates.*");
  for (const channel of ["updates:prices", "updates:a:b", "updates:news"]) {
    const response = await restPublish(fixture.base, {
      channel,
      event: "tick",
      payload: channel,
    });
    assert.equal(response.status, 200);
  }
  assert.equal((await rtc.next("Broadcast")).topic, "updates.prices");
  assert.equal(
    (await rtc.next("Broadcast")).topic,
    "updates.news",
    "updates.* matches one segment: updates.a.b is not among them",
  );
  const ack = await rtc.request(
    "Broadcast",
    { topic: "updates.x", payload: 1 },
    "b1",
  );
  assert.equal(ack.data.recipients, 1, "a pattern subscriber counts");
});

Deno.test("rtc: DirectMessage: delivered_to names the target's connections as their welcomes did; offline: Error 404 queued, kept in the user's history", async () => {
  await using fixture = await serve();
  const url = rtcUrl(fixture.base);
  await using alice = await RtcClient.connect(url, { ...CHAT, sub: "alice" });
  await using bob1 = await RtcClient.connect(url, { ...CHAT, sub: "bob" });
  await using bob2 = await RtcClient.connect(url, { ...CHAT, sub: "bob" });
  const ids = [bob1, bob2].map((bob) =>
    bob.frames.values[0]?.data.details.connection_id
  );
  const ack = await alice.request("DirectMessage", {
    target_user: "bob",
    payload: { message: "Private message", attachments: [] },
  }, "dm_789012");
  assert.equal(ack.type, "Ack");
  assert.equal(ack.data.message_id, "dm_789012");
  assert.equal(ack.data.status, "delivered");
  assert.deepEqual([...ack.data.delivered_to].sort(), [...ids].sort());
  for (const bob of [bob1, bob2]) {
    const dm = await bob.next("DirectMessage");
    assert.equal(dm.from_user, "alice");
    assert.deepEqual(dm.payload, {
      message: "Private message",
      attachments: [],
    });
    assert.equal(typeof dm.metadata.sent_at, "number");
    assert.equal(typeof dm.metadata.message_id, "string");
  }
  assert.ok(!alice.types.includes("DirectMessage"), "only the target gets it");

  const offline = await alice.request("DirectMessage", {
    target_user: "user456",
    payload: { message: "later" },
  }, "dm_2");
  assert.deepEqual(offline, {
    type: "Error",
    data: {
      code: 404,
      message: "User user456 not found or not connected",
      details: { message_id: "dm_2", queued: true },
    },
  });
  alice.send("DirectMessage", {
    target_user: "user456",
    payload: { message: "no id" },
  });
  const unnamed = await alice.next("Error");
  assert.equal(unnamed.code, 404, "errors come without an id too");
  assert.deepEqual(unnamed.details, { queued: true });
  const history = await apiCall(
    fixture,
    `/history?channel=${encodeURIComponent("#user456")}`,
  );
  assert.equal(history.status, 200);
  const kept = history.body.messages as Record<string, unknown>[];
  assert.deepEqual(kept.map((message) => message.from), ["alice", "alice"]);
  assert.deepEqual(kept[0]?.payload, { message: "later" });

  await using noScope = await RtcClient.connect(url, {
    ...CHAT,
    sub: "carol",
    scope: ["subscribe", "publish"],
  });
  const refused = await noScope.request("DirectMessage", {
    target_user: "bob",
    payload: 1,
  }, "dm_3");
  assert.equal(refused.type, "Error");
  assert.equal(refused.data.code, 403);
});

Deno.test("rtc: a token without the subscribe scope is welcomed but holds no personal channel: its direct messages wait in history", async () => {
  await using fixture = await serve();
  const url = rtcUrl(fixture.base);
  await using writer = await RtcClient.connect(url, {
    sub: "writer",
    scope: ["publish"],
  });
  await using alice = await RtcClient.connect(url, { ...CHAT, sub: "alice" });
  const dm = await alice.request("DirectMessage", {
    target_user: "writer",
    payload: 1,
  }, "d");
  assert.equal(dm.data.code, 404);
  writer.send("Ping", {});
  await writer.next("Pong");
  assert.ok(!writer.types.includes("DirectMessage"));
});

Deno.test("rtc: a back-end's message to a personal channel arrives as a DirectMessage from nobody", async () => {
  await using fixture = await serve();
  await using bob = await RtcClient.connect(rtcUrl(fixture.base), {
    sub: "bob",
  });
  const response = await restPublish(fixture.base, {
    channel: "#bob",
    event: "invoice",
    payload: { total: 3 },
  });
  assert.equal(response.status, 200);
  const dm = await bob.next("DirectMessage");
  assert.equal(dm.from_user, null);
  assert.deepEqual(dm.payload, { total: 3 });
  assert.equal(dm.metadata.event, "invoice");
});

Deno.test("rtc: Presence: online when another user subscribes to a shared topic, offline after the default 5 s leave delay, metadata the token's info", async () => {
  await using fixture = await serve();
  const url = rtcUrl(fixture.base);
  await using watcher = await RtcClient.connect(url, { ...CHAT, sub: "w" });
  await watcher.subscribe("chat.general");
  const visitor = await RtcClient.connect(url, {
    ...CHAT,
    sub: "user789",
    info: { device: "web", location: "New York" },
  });
  await visitor.subscribe("chat.general");
  const online = await watcher.next("Presence");
  assert.deepEqual(Object.keys(online), [
    "user_id",
    "status",
    "last_seen",
    "metadata",
    "topic",
  ]);
  assert.equal(online.user_id, "user789");
  assert.equal(online.status, "online");
  assert.deepEqual(online.metadata, { device: "web", location: "New York" });
  assert.equal(online.topic, "chat.general");
  assert.ok(!visitor.types.includes("Presence"), "nobody hears of their own");
  const left = Date.now();
  await visitor[Symbol.asyncDispose]();
  const offline = await watcher.next("Presence");
  assert.ok(Date.now() - left >= 4_500, "not before the leave delay");
  assert.equal(offline.user_id, "user789");
  assert.equal(offline.status, "offline");
  assert.ok(offline.last_seen >= Math.floor(left / 1000));
});

Deno.test("rtc: /notify arrives as Notification, its data the payload; to the listed users only when users is given", async () => {
  await using fixture = await serve();
  const url = rtcUrl(fixture.base);
  await using alice = await RtcClient.connect(url, { sub: "alice" });
  await using bob = await RtcClient.connect(url, { sub: "bob" });
  const notification = {
    level: "info",
    title: "Maintenance Notice",
    message: "System will undergo maintenance in 1 hour",
    actions: [{ label: "Learn More", url: "https://status.example.com" }],
  };
  const everyone = await apiCall(fixture, "/notify", {
    event: "maintenance",
    payload: notification,
  });
  assert.equal(everyone.status, 200);
  assert.deepEqual(await alice.next("Notification"), notification);
  assert.deepEqual(await bob.next("Notification"), notification);
  await apiCall(fixture, "/notify", {
    event: "x",
    payload: { for: "bob" },
    users: ["bob"],
  });
  assert.deepEqual(await bob.next("Notification"), { for: "bob" });
  alice.send("Ping", {});
  await alice.next("Pong");
  assert.equal(
    alice.types.filter((type) => type === "Notification").length,
    1,
  );
});

Deno.test("rtc: AuthStatus token_expiring 60 s before exp; at exp plus the leeway, Error 401 and close 4001", async () => {
  // The server's clock is moved forward rather than waiting minutes for a real expiry.
  let offset = 0;
  await using fixture = await serve({}, { clock: () => Date.now() + offset });
  await using client = await RtcClient.connect(rtcUrl(fixture.base), {
    ttlSeconds: 120,
  });
  const exp = Math.floor(Date.now() / 1000) + 120;
  offset = 61_000;
  const warning = await client.next("AuthStatus");
  assert.equal(warning.status, "token_expiring");
  assert.ok(Math.abs(warning.expires_at - exp) <= 1);
  assert.equal(warning.refresh_required, true);
  offset = 151_000;
  const error = await client.next("Error");
  assert.equal(error.code, 401);
  const closed = await client.closed;
  assert.equal(closed.code, 4001);
});

Deno.test("rtc: binary frames acknowledged with size, type and sha256; a length mismatch or garbage is Error 400, and the socket lives", async () => {
  await using fixture = await serve();
  await using client = await RtcClient.connect(rtcUrl(fixture.base), CHAT);
  const payload = new TextEncoder().encode("a file's bytes");
  const frame = new Uint8Array(5 + payload.length);
  frame[0] = 0x03;
  new DataView(frame.buffer).setUint32(1, payload.length, false);
  frame.set(payload, 5);
  client.sendRaw(frame);
  assert.deepEqual(await client.next("Status"), {
    status: "binary_received",
    details: {
      size: payload.length,
      type: "file_transfer",
      checksum: `sha256:${createHash("sha256").update(payload).digest("hex")}`,
    },
  });
  const names = [];
  for (const type of [0x01, 0x02, 0x04]) {
    client.sendRaw(new Uint8Array([type, 0, 0, 0, 0]));
    names.push((await client.next("Status")).details.type);
  }
  assert.deepEqual(names, ["broadcast", "direct_message", "stream_data"]);
  const mismatch = frame.slice();
  new DataView(mismatch.buffer).setUint32(1, 9999, false);
  for (
    const garbage of [
      mismatch,
      new Uint8Array([0x01, 0]),
      new Uint8Array([0x09, 0, 0, 0, 0]),
    ]
  ) {
    client.sendRaw(garbage);
    const error = await client.next("Error");
    assert.equal(error.code, 400, error.message);
  }
  client.send("Ping", { timestamp: 1 });
  assert.deepEqual(await client.next("Pong"), { timestamp: 1 });
});

Deno.test("rtc: frames over 64 KB, text or binary, close 1009; other clients are untouched", async () => {
  await using fixture = await serve();
  const url = rtcUrl(fixture.base);
  await using bystander = await RtcClient.connect(url, CHAT);
  await bystander.subscribe("chat.general");
  await using big = await RtcClient.connect(url, CHAT);
  const filler = "x".repeat(65_536);
  big.send("Broadcast", { topic: "chat.general", payload: filler });
  assert.equal((await big.closed).code, 1009);
  await using binary = await RtcClient.connect(url, CHAT);
  binary.sendRaw(new Uint8Array(65_537));
  assert.equal((await binary.closed).code, 1009);
  // Just under the limit is fine.
  await using fits = await RtcClient.connect(url, CHAT);
  const ack = await fits.request("Broadcast", {
    topic: "chat.general",
    payload: "y".repeat(60_000),
  }, "fits");
  assert.equal(ack.type, "Ack");
  assert.equal((await bystander.next("Broadcast")).payload.length, 60_000);
});

Deno.test("rtc: bad input gets Error 400 naming what is wrong, and harms nothing: the socket stays, others still receive", async () => {
  await using fixture = await serve();
  const url = rtcUrl(fixture.base);
  await using bystander = await RtcClient.connect(url, CHAT);
  await bystander.subscribe("chat.general");
  await using client = await RtcClient.connect(url, CHAT);
  const cases: [string, RegExp][] = [
    ["{not json", /malformed JSON/],
    ["[1,2]", /JSON object/],
    ['"text"', /JSON object/],
    ['{"data":{}}', /type/],
    ['{"type":42}', /type/],
    ['{"type":"Subscribe","id":{"x":1}}', /id/],
    ['{"type":"Frobnicate","data":{}}', /unknown message type "Frobnicate"/],
    ['{"type":"Subscribe","data":{"topics":"chat.general"}}', /data\.topics/],
    ['{"type":"Subscribe","data":{"topics":[]}}', /data\.topics/],
    ['{"type":"Subscribe","data":{"topics":[7]}}', /data\.topics/],
    ['{"type":"Subscribe","data":{"topics":["chat..x"]}}', /invalid topic/],
    ['{"type":"Subscribe","data":{"topics":["chat:general"]}}', /invalid/],
    ['{"type":"Subscribe"}', /data must be an object/],
    ['{"type":"Broadcast","data":{"topic":"chat.general"}}', /payload/],
    ['{"type":"Broadcast","data":{"topic":5,"payload":1}}', /data\.topic/],
    [
      '{"type":"Broadcast","data":{"topic":"updates.*","payload":1}}',
      /pattern/,
    ],
    [
      '{"type":"DirectMessage","data":{"target_user":"","payload":1}}',
      /target_user/,
    ],
    ['{"type":"Ping","data":{"timestamp":"soon"}}', /data\.timestamp/],
    ['{"type":"X-","data":{}}', /a name after X-/],
    ['{"type":"Ping","id":true}', /id must be a string or a number/],
  ];
  for (const [text, message] of cases) {
    client.sendRaw(text);
    const error = await client.next("Error");
    assert.equal(error.code, 400, text);
    assert.match(error.message, message, text);
    assert.deepEqual(typeof error.details, "object");
  }
  const ack = await client.request(
    "Broadcast",
    { topic: "chat.general", payload: "still here" },
    "ok",
  );
  assert.equal(ack.type, "Ack");
  assert.equal((await bystander.next("Broadcast")).payload, "still here");
});

Deno.test("rtc: numeric errors: 403 for topics and scopes the token lacks, 429 past the rate limit, then close 1008 for abuse", async () => {
  await using fixture = await serve();
  const url = rtcUrl(fixture.base);
  await using reader = await RtcClient.connect(url, {
    authorizedChannels: ["chat:general"],
    scope: ["subscribe"],
  });
  const denied = await reader.request(
    "Subscribe",
    { topics: ["chat.general", "secret.room"] },
    "s",
  );
  assert.equal(denied.data.code, 403);
  assert.match(denied.data.message, /secret\.room/);
  assert.equal(
    (await reader.request(
      "Broadcast",
      { topic: "chat.general", payload: 1 },
      "b",
    )).data.code,
    403,
  );
  assert.equal(
    (await reader.request("X-Thing", {}, "x")).data.code,
    403,
    "X- types need the trigger scope",
  );

  // The default budget: 100 per second, bursts of 200; over 100 refusals in 10 s is abuse.
  await using flood = await RtcClient.connect(url, CHAT);
  for (let i = 0; i < 400; i++) flood.send("Ping", { timestamp: i });
  const limited = await flood.next("Error");
  assert.equal(limited.code, 429);
  assert.equal((await flood.closed).code, 1008);
});

Deno.test("rtc: X- types go to the back-end like trigger: an Ack with its response, or a frame of the same type without an id; 404 without a back-end, 503 when it fails", async () => {
  const secret = "rtc-trigger-secret";
  const received: { body: Record<string, unknown>; signature: string }[] = [];
  await using backEnd = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const text = await request.text();
      const body = JSON.parse(text);
      received.push({
        body,
        signature: request.headers.get("x-broadcaster-signature") ?? "",
      });
      assert.equal(
        received.at(-1)?.signature,
        `sha256=${createHmac("sha256", secret).update(text).digest("hex")}`,
      );
      return body.event === "X-Broken"
        ? new Response("down", { status: 500 })
        : Response.json({ done: body.data });
    },
  );
  {
    await using fixture = await serveWithConfig({
      triggerUrl: `http://127.0.0.1:${backEnd.addr.port}/hook`,
      triggerSecret: secret,
    });
    await using client = await RtcClient.connect(rtcUrl(fixture.base), {
      sub: "alice",
      scope: ["subscribe", "trigger"],
    });
    const data = { action: "special_operation", parameters: {} };
    const ack = await client.request("X-CustomAction", data, "c1");
    assert.deepEqual(ack.data, {
      message_id: "c1",
      status: "delivered",
      response: { done: data },
    });
    assert.deepEqual(received[0]?.body, {
      event: "X-CustomAction",
      data,
      user: "alice",
      connectionId: client.frames.values[0]?.data.details.connection_id,
    });
    client.send("X-CustomAction", { n: 2 });
    assert.deepEqual(await client.next("X-CustomAction"), {
      done: { n: 2 },
    });
    const failed = await client.request("X-Broken", {}, "c3");
    assert.equal(failed.data.code, 503);
  }
  await using plain = await serve();
  await using client = await RtcClient.connect(rtcUrl(plain.base), {
    scope: ["subscribe", "trigger"],
  });
  const none = await client.request("X-CustomAction", {}, "c4");
  assert.equal(none.data.code, 404);
});
