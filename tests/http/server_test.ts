/**
 * Integration: the real server on port 0, real WebSocket clients and fetch.
 */

import assert from "node:assert/strict";
import { type Frame, TestClient } from "../support/client.ts";
import { pollUntil } from "../support/observed.ts";
import { restPublish, serve, TEST_API_KEY, token } from "../support/server.ts";

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function upgradeHeaders(): Record<string, string> {
  return {
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-version": "13",
  };
}

Deno.test("an empty BASE_PATH serves the socket at /websocket", async () => {
  await using fixture = await serve({ BASE_PATH: "" });
  assert.equal(new URL(fixture.websocketUrl).pathname, "/websocket");
  await using client = await TestClient.authed(fixture.websocketUrl);
  assert.ok(client.socket.readyState === WebSocket.OPEN);
});

Deno.test("end to end: subscribe over the socket, publish over REST, receive a broadcast", async () => {
  await using fixture = await serve();
  await using client = await TestClient.authed(fixture.websocketUrl);
  const subscribed = await client.ok("subscribe", { channel: "room1" });
  assert.equal(typeof subscribed.subscriptionId, "string");
  assert.match(String(subscribed.timestamp), RFC3339_UTC);

  const response = await restPublish(fixture.base, {
    channel: "room1",
    event: "greeting",
    payload: { text: "hi" },
  });
  assert.equal(response.status, 200);
  const published = await response.json();
  assert.deepEqual(Object.keys(published), ["id", "createTime"]);
  assert.match(published.createTime, RFC3339_UTC);

  assert.deepEqual(await client.broadcast(), {
    id: published.id,
    seq: 1,
    createTime: published.createTime,
    channel: "room1",
    event: "greeting",
    payload: { text: "hi" },
  });
});

Deno.test("fan-out: every subscriber of a channel gets every message once, in publish order; others get none", async () => {
  await using fixture = await serve();
  const clients: TestClient[] = [];
  for (let i = 0; i < 3; i++) {
    const client = await TestClient.authed(fixture.websocketUrl);
    await client.ok("subscribe", { channel: "room1" });
    clients.push(client);
  }
  await using bystander = await TestClient.authed(fixture.websocketUrl);
  await bystander.ok("subscribe", { channel: "room2" });

  const ids: string[] = [];
  for (let i = 0; i < 50; i++) {
    const response = await restPublish(fixture.base, {
      channel: "room1",
      event: "n",
      payload: i,
    });
    ids.push((await response.json()).id);
  }
  assert.equal(new Set(ids).size, 50);
  for (const client of clients) {
    for (let i = 0; i < 50; i++) {
      const params = await client.broadcast();
      assert.equal(params.payload, i);
      assert.equal(params.seq, i + 1);
      assert.equal(params.id, ids[i]);
    }
  }
  // The bystander's next frame answers its heartbeat: no room1 message came first.
  assert.ok("timestamp" in await bystander.ok("heartbeat"));
  await Promise.all(clients.map((client) => client[Symbol.asyncDispose]()));
});

Deno.test("publish over the socket: the publisher, subscribed, receives its own message", async () => {
  await using fixture = await serve();
  await using client = await TestClient.authed(fixture.websocketUrl);
  await client.ok("subscribe", { channel: "room1" });
  const id = client.sendRequest("publish", {
    channel: "room1",
    event: "self",
    payload: [1, 2],
  });
  const frames: Frame[] = [await client.next(), await client.next()];
  const result = frames.find((frame) => frame.requestId === id)?.result;
  const broadcast = frames.find((frame) => frame.method === "broadcast");
  assert.ok(result !== undefined && broadcast?.params !== undefined);
  assert.equal(broadcast.params.id, result.id);
  assert.deepEqual(broadcast.params.payload, [1, 2]);
});

Deno.test("auth and subscribe sent back to back are answered in order", async () => {
  await using fixture = await serve();
  await using client = await TestClient.connect(fixture.websocketUrl);
  client.send(
    JSON.stringify({ id: 1, method: "auth", params: { token: await token() } }),
  );
  client.send(
    JSON.stringify({
      id: 2,
      method: "subscribe",
      params: { channel: "room1" },
    }),
  );
  assert.deepEqual((await client.next()).result, { success: true });
  const second = await client.next();
  assert.equal(second.requestId, 2);
  assert.ok(second.result?.subscriptionId);
});

Deno.test("?token= authenticates at connect; an invalid one is a 401 before the upgrade", async () => {
  await using fixture = await serve();
  await using client = await TestClient.connect(
    `${fixture.websocketUrl}?token=${await token()}`,
  );
  assert.ok(
    (await client.ok("subscribe", { channel: "room1" })).subscriptionId,
  );

  const http = fixture.websocketUrl.replace(/^ws/, "http");
  for (
    const bad of [
      "garbage",
      await token({ sub: "" }),
      await token({ ttlSeconds: -3600 }),
    ]
  ) {
    const response = await fetch(`${http}?token=${bad}`, {
      headers: upgradeHeaders(),
    });
    assert.equal(response.status, 401);
    assert.equal((await response.json()).error.code, "Unauthenticated");
  }
});

Deno.test("every error of the protocol reaches the client with its code", async () => {
  await using fixture = await serve({ MAX_SUBSCRIPTIONS: "1" });
  await using client = await TestClient.connect(fixture.websocketUrl);
  const code = async (method: string, params?: unknown) =>
    (await client.request(method, params)).error?.code;
  assert.equal(
    await code("subscribe", { channel: "room1" }),
    "Unauthenticated",
  );
  assert.equal(await code("auth", { token: "bad" }), "Unauthenticated");
  assert.equal(await code("auth", {}), "InvalidArgument");
  assert.equal(await code("auth", { token: await token() }), undefined);
  assert.equal(
    await code("auth", { token: await token({ sub: "mallory" }) }),
    "FailedPrecondition",
  );
  assert.equal(await code("subscribe", { channel: "a::b" }), "InvalidArgument");
  assert.equal(
    await code("subscribe", { channel: "secret" }),
    "PermissionDenied",
  );
  assert.equal(await code("subscribe", { channel: "room1" }), undefined);
  assert.equal(await code("subscribe", { channel: "room1" }), "AlreadyExists");
  assert.equal(
    await code("subscribe", { channel: "room2" }),
    "ResourceExhausted",
  );
  assert.equal(await code("unsubscribe", { channel: "room2" }), "NotFound");
  assert.equal(
    await code("publish", { channel: "room1", event: "" }),
    "InvalidArgument",
  );
  assert.equal(
    await code("publish", { channel: "secret", event: "e" }),
    "PermissionDenied",
  );
  assert.equal(await code("nope"), "NotFound");
});

Deno.test("malformed frames get InvalidArgument and the connection stays usable", async () => {
  await using fixture = await serve();
  await using client = await TestClient.authed(fixture.websocketUrl);
  for (const text of ["{not json", "[1,2]", '"text"', '{"id":1,"method":5}']) {
    client.send(text);
    assert.equal((await client.next()).error?.code, "InvalidArgument");
  }
  assert.ok("timestamp" in await client.ok("heartbeat"));
});

Deno.test("notifications get no success response, but their errors arrive without requestId", async () => {
  await using fixture = await serve();
  await using client = await TestClient.authed(fixture.websocketUrl);
  client.send(
    JSON.stringify({ method: "subscribe", params: { channel: "room1" } }),
  );
  client.send(JSON.stringify({ id: 0, method: "heartbeat" }));
  client.send(
    JSON.stringify({ method: "unsubscribe", params: { channel: "zz" } }),
  );
  const error = await client.next();
  assert.equal(error.requestId, undefined);
  assert.equal(error.error?.code, "NotFound");
  // The notification subscribe took effect: a publish reaches this client.
  await (await restPublish(fixture.base, { channel: "room1", event: "e" }))
    .body?.cancel();
  assert.equal((await client.broadcast()).seq, 1);
});

Deno.test("the original's crash sequences leave the server serving everyone", async () => {
  await using fixture = await serve();
  await using client = await TestClient.authed(fixture.websocketUrl);
  await using other = await TestClient.authed(fixture.websocketUrl);
  await other.ok("subscribe", { channel: "room2" });
  // Unsubscribe from a channel nobody subscribed to: the original panicked.
  assert.equal(
    (await client.request("unsubscribe", { channel: "room1" })).error?.code,
    "NotFound",
  );
  // Subscribe, unsubscribe, subscribe again: the original panicked too.
  await client.ok("subscribe", { channel: "room1" });
  await client.ok("unsubscribe", { channel: "room1" });
  await client.ok("subscribe", { channel: "room1" });
  await (await restPublish(fixture.base, { channel: "room1", event: "e" }))
    .body?.cancel();
  await (await restPublish(fixture.base, { channel: "room2", event: "e" }))
    .body?.cancel();
  assert.equal((await client.broadcast()).seq, 1);
  assert.equal((await other.broadcast()).seq, 1);
});

Deno.test("a binary frame closes with 1003; a frame over MAX_MESSAGE_BYTES with 1009", async () => {
  await using fixture = await serve({ MAX_MESSAGE_BYTES: "1024" });
  await using binary = await TestClient.authed(fixture.websocketUrl);
  binary.socket.send(new Uint8Array([1, 2, 3]));
  assert.equal((await binary.closed).code, 1003);

  await using big = await TestClient.authed(fixture.websocketUrl);
  big.send(
    JSON.stringify({ id: 1, method: "heartbeat", pad: "é".repeat(600) }),
  );
  assert.equal((await big.closed).code, 1009);

  // Just under the limit (multi-byte characters counted as bytes) is fine.
  await using fits = await TestClient.authed(fixture.websocketUrl);
  fits.send(
    JSON.stringify({ id: 9, method: "heartbeat", pad: "é".repeat(480) }),
  );
  assert.equal((await fits.next()).requestId, 9);
});

Deno.test("a browser origin outside ALLOWED_ORIGINS is closed with 1008", async () => {
  await using fixture = await serve({ ALLOWED_ORIGINS: "https://app.example" });
  const refused = new WebSocket(fixture.websocketUrl, {
    headers: { origin: "https://evil.example" },
  });
  const closed = await new Promise<CloseEvent>((resolve) =>
    refused.addEventListener("close", resolve)
  );
  assert.equal(closed.code, 1008);
  const allowed = new WebSocket(fixture.websocketUrl, {
    headers: { origin: "https://app.example" },
  });
  await new Promise((resolve) => allowed.addEventListener("open", resolve));
  allowed.close();
  await new Promise((resolve) => allowed.addEventListener("close", resolve));
});

Deno.test("shutdown closes every socket with 1001 and stops listening", async () => {
  const fixture = await serve();
  const client = await TestClient.authed(fixture.websocketUrl);
  await fixture.server.shutdown();
  assert.equal((await client.closed).code, 1001);
  await assert.rejects(fetch(`${fixture.base}/health`));
});

Deno.test("shutdown lets an in-flight REST publish finish", async () => {
  const fixture = await serve();
  const encoder = new TextEncoder();
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  const response = fetch(`${fixture.base}/publish`, {
    method: "POST",
    headers: { authorization: TEST_API_KEY },
    body,
  });
  controller?.enqueue(encoder.encode('{"channel":"room1",'));
  await pollUntil(
    () => fixture.server.requestsInFlight === 1,
    "the request in flight",
  );
  // The server is reading this body when shutdown starts.
  const stopped = fixture.server.shutdown();
  const refused = await fetch(`${fixture.base}/health`);
  assert.equal(refused.status, 503);
  assert.equal(await refused.text(), "shutting down");
  controller?.enqueue(encoder.encode('"event":"late"}'));
  controller?.close();
  const answered = await response;
  assert.equal(answered.status, 200);
  assert.ok((await answered.json()).id);
  await stopped;
});
