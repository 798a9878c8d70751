/**
 * The client SDK against the real server: the shape of its API, delivery,
 * publishing, close codes and token refresh (resilience through a failing
 * network: `lossless_test.ts`). Deno's sanitizers fail any test that leaves
 * a timer.
 */

import assert from "node:assert/strict";
import {
  BroadcasterClient,
  BroadcasterError,
  type BroadcastMessage,
  ClientClosedError,
  type ConnectionState,
  RequestTimeoutError,
} from "../../src/client/mod.ts";
import { mintToken } from "../../src/auth/jwt.ts";
import { Observed, settlesWithin } from "../support/observed.ts";
import {
  DEFAULT_CLAIMS,
  restPublish,
  serve,
  TEST_SECRET,
  token,
} from "../support/server.ts";

/** A WebSocket class that reports every close code its sockets see. */
function recordingCloses(codes: Observed<number>, origin?: string) {
  return class extends WebSocket {
    constructor(url: string | URL) {
      super(url, origin === undefined ? undefined : { headers: { origin } });
      this.addEventListener("close", (event) => codes.push(event.code));
    }
  };
}

Deno.test("subscribe, publish, receive, unsubscribe, close: the documented shape", async () => {
  await using fixture = await serve();
  const states = new Observed<ConnectionState>();
  const client = new BroadcasterClient({
    url: fixture.websocketUrl,
    token: () => token(),
    onStateChange: states.push,
  });
  const received = new Observed<BroadcastMessage>();
  const sub = client.subscribe("room1", received.push);
  await sub.ready;
  const { id, createTime } = await client.publish("room1", "event", { a: 1 });
  assert.match(createTime, /Z$/);
  await received.until((values) => values.length === 1, "the message");
  assert.deepEqual(received.values[0], {
    id,
    seq: 1,
    createTime,
    channel: "room1",
    event: "event",
    payload: { a: 1 },
  });
  sub.unsubscribe();
  await client.publish("room1", "event", 2);
  // A later publish on another channel we still hear proves the first unsubscribe took.
  const other = new Observed<BroadcastMessage>();
  await client.subscribe("room2", other.push).ready;
  await client.publish("room2", "event", 3);
  await other.until((values) => values.length === 1, "room2 message");
  assert.equal(received.values.length, 1);
  await client.close();
  assert.deepEqual(states.values, ["connecting", "connected", "closed"]);
});

Deno.test("close() from inside a callback closes the socket and resolves", async () => {
  await using fixture = await serve();
  const codes = new Observed<number>();
  const original = globalThis.WebSocket;
  globalThis.WebSocket = recordingCloses(codes);
  try {
    const client = new BroadcasterClient({
      url: fixture.websocketUrl,
      token: () => token(),
    });
    const closing = new Observed<Promise<void>>();
    await client.subscribe("room1", () => closing.push(client.close())).ready;
    await (await restPublish(fixture.base, { channel: "room1", event: "bye" }))
      .body?.cancel();
    await closing.until((values) => values.length === 1, "the callback");
    await settlesWithin(closing.values[0] ?? Promise.resolve(), "close()");
    assert.deepEqual(codes.values, [1000]);
    assert.equal(client.state, "closed");
  } finally {
    globalThis.WebSocket = original;
  }
});

Deno.test("subscribing twice to a channel replaces the handler", async () => {
  await using fixture = await serve();
  const client = new BroadcasterClient({
    url: fixture.websocketUrl,
    token: () => token(),
  });
  const first = new Observed<BroadcastMessage>();
  const second = new Observed<BroadcastMessage>();
  await client.subscribe("room1", first.push).ready;
  await client.subscribe("room1", second.push).ready;
  await client.publish("room1", "e", 1);
  await second.until((values) => values.length === 1, "the message");
  assert.equal(first.values.length, 0);
  await client.close();
});

Deno.test("errors are typed: the server's refusals, and closed clients", async () => {
  await using fixture = await serve();
  const client = new BroadcasterClient({
    url: fixture.websocketUrl,
    token: () => token(),
  });
  await assert.rejects(client.publish("secret", "e", 1), (error) => {
    assert.ok(error instanceof BroadcasterError);
    assert.equal(error.code, "PermissionDenied");
    return true;
  });
  const refused = client.subscribe("secret", () => {});
  await assert.rejects(refused.ready, (error) => {
    assert.ok(error instanceof BroadcasterError);
    assert.equal(error.code, "PermissionDenied");
    return true;
  });
  await client.subscribe("room1", () => {}).ready;
  await client.close();
  await assert.rejects(client.publish("room1", "e", 1), ClientClosedError);
});

Deno.test("requests time out with RequestTimeoutError", async () => {
  // A server that upgrades and then never answers.
  const silent = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (request) => {
      const { response } = Deno.upgradeWebSocket(request);
      return response;
    },
  );
  const errors = new Observed<Error>();
  const client = new BroadcasterClient({
    url: `ws://127.0.0.1:${silent.addr.port}/`,
    token: () => "t",
    // Shortened so the test need not wait the default 10 s.
    requestTimeoutMs: 100,
    onError: errors.push,
  });
  await errors.until((values) => values.length > 0, "the auth timeout");
  assert.ok(errors.values[0] instanceof RequestTimeoutError);
  await client.close();
  await silent.shutdown();
});

Deno.test("after 1008 (policy) the client stops: no reconnect loop", async () => {
  await using fixture = await serve({ ALLOWED_ORIGINS: "https://app.example" });
  // Deno's WebSocket sends no Origin, so force one through a subclass.
  const codes = new Observed<number>();
  const original = globalThis.WebSocket;
  globalThis.WebSocket = recordingCloses(codes, "https://evil.example");
  let tokens = 0;
  const errors = new Observed<Error>();
  const states = new Observed<ConnectionState>();
  try {
    const client = new BroadcasterClient({
      url: fixture.websocketUrl,
      token: () => (tokens++, token()),
      onError: errors.push,
      onStateChange: states.push,
    });
    await states.until((values) => values.includes("closed"), "closed");
    assert.deepEqual(codes.values, [1008]);
    const fatal = errors.values.find((error) =>
      error instanceof ClientClosedError
    );
    assert.match(fatal?.message ?? "", /1008/);
    // No reconnect: the one token asked for is the only one.
    assert.equal(tokens, 1);
    await client.close();
  } finally {
    globalThis.WebSocket = original;
  }
});

Deno.test("after a real 4001 the client reconnects at once with a fresh token and keeps its subscriptions", async () => {
  // The server's clock is the test's: it jumps past exp + leeway, so the
  // server closes with 4001 without warning first (a warning would refresh).
  let offsetMs = 0;
  const serverNow = () => Date.now() + offsetMs;
  await using fixture = await serve({}, { clock: serverNow });
  const codes = new Observed<number>();
  const original = globalThis.WebSocket;
  globalThis.WebSocket = recordingCloses(codes);
  const states = new Observed<ConnectionState>();
  const received = new Observed<BroadcastMessage>();
  let tokens = 0;
  try {
    const client = new BroadcasterClient({
      url: fixture.websocketUrl,
      token:
        () => (tokens++, mintToken(TEST_SECRET, DEFAULT_CLAIMS, serverNow())),
      onStateChange: states.push,
    });
    await client.subscribe("room1", received.push).ready;
    offsetMs = (DEFAULT_CLAIMS.ttlSeconds + 31) * 1000;
    await codes.until((values) => values.includes(4001), "a 4001 close");
    await states.until(
      (values) => values.filter((state) => state === "connected").length === 2,
      "connected again",
    );
    // Reconnected (at once: the core test holds the delay to 0), nothing else.
    assert.deepEqual(states.values, [
      "connecting",
      "connected",
      "disconnected",
      "connecting",
      "connected",
    ]);
    assert.equal(tokens, 2);
    await (await restPublish(fixture.base, {
      channel: "room1",
      event: "after",
    }))
      .body?.cancel();
    await received.until((values) => values.length === 1, "a message after");
    await client.close();
  } finally {
    globalThis.WebSocket = original;
  }
});
