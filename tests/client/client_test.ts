/**
 * The client SDK against the real server: the shape of its API, delivery,
 * publishing, close codes, token refresh, and resilience through a link that
 * is cut every second. Deno's sanitizers fail any test that leaves a timer.
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
import { CuttingProxy } from "../support/proxy.ts";
import { restPublish, serve, token } from "../support/server.ts";

/** Resolves when `check` holds after some event; the client has no other hook. */
function until(
  check: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = () => {
      if (check()) resolve();
      else if (Date.now() - started > timeoutMs) {
        reject(new Error(`timed out: ${what}`));
      } else setTimeout(poll, 5);
    };
    poll();
  });
}

Deno.test("subscribe, publish, receive, unsubscribe, close: the documented shape", async () => {
  await using fixture = await serve();
  const states: ConnectionState[] = [];
  const client = new BroadcasterClient({
    url: fixture.websocketUrl,
    token: () => token(),
    onStateChange: (state) => states.push(state),
  });
  const received: BroadcastMessage[] = [];
  const sub = client.subscribe("room1", (message) => received.push(message));
  await sub.ready;
  const { id, createTime } = await client.publish("room1", "event", { a: 1 });
  assert.match(createTime, /Z$/);
  await until(() => received.length === 1, "the message");
  assert.deepEqual(received[0], {
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
  const other: BroadcastMessage[] = [];
  await client.subscribe("room2", (message) => other.push(message)).ready;
  await client.publish("room2", "event", 3);
  await until(() => other.length === 1, "room2 message");
  assert.equal(received.length, 1);
  await client.close();
  assert.deepEqual(states, ["connected", "closed"]);
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
  const errors: Error[] = [];
  const client = new BroadcasterClient({
    url: `ws://127.0.0.1:${silent.addr.port}/`,
    token: () => "t",
    requestTimeoutMs: 100,
    onError: (error) => errors.push(error),
  });
  await until(() => errors.length > 0, "the auth timeout");
  assert.ok(errors[0] instanceof RequestTimeoutError);
  await client.close();
  await silent.shutdown();
});

Deno.test("after 1008 (policy) the client stops: no reconnect loop", async () => {
  await using fixture = await serve({ ALLOWED_ORIGINS: "https://app.example" });
  // Deno's WebSocket sends no Origin, so force one through a header-setting subclass.
  class WithOrigin extends WebSocket {
    constructor(url: string | URL) {
      super(url, { headers: { origin: "https://evil.example" } });
    }
  }
  const original = globalThis.WebSocket;
  globalThis.WebSocket = WithOrigin as typeof WebSocket;
  let tokens = 0;
  const errors: Error[] = [];
  try {
    const client = new BroadcasterClient({
      url: fixture.websocketUrl,
      token: () => (tokens++, token()),
      onError: (error) => errors.push(error),
    });
    await until(() => client.state === "closed", "closed for good");
    const fatal = errors.find((error) => error instanceof ClientClosedError);
    assert.match(fatal?.message ?? "", /1008/);
    // No reconnect: the one token asked for is the only one.
    assert.equal(tokens, 1);
    await client.close();
  } finally {
    globalThis.WebSocket = original;
  }
});

Deno.test("after 4001 the client reconnects with a fresh token and keeps its subscriptions", async () => {
  await using fixture = await serve();
  const issued: number[] = [];
  const received: BroadcastMessage[] = [];
  const client = new BroadcasterClient({
    url: fixture.websocketUrl,
    // The first token is already within the leeway's last second; later ones last an hour.
    token: () => {
      issued.push(Date.now());
      return token({ ttlSeconds: issued.length === 1 ? -29 : 3600 });
    },
  });
  client.subscribe("room1", (message) => received.push(message));
  // The server warns (tokenExpiring: the client refreshes in place) or closes with 4001
  // (the client reconnects with a new token); either way a second token is asked for.
  await until(() => issued.length >= 2, "a second token");
  await until(() => client.state === "connected", "connected again");
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(client.state, "connected", "no 4001 after the refresh");
  await (await restPublish(fixture.base, { channel: "room1", event: "after" }))
    .body?.cancel();
  await until(() => received.length === 1, "a message after the refresh");
  await client.close();
});

Deno.test("through a link cut every second, 600 messages arrive exactly once, in order", async () => {
  await using fixture = await serve({ RATE_LIMIT: "100000" });
  using proxy = new CuttingProxy(Number(new URL(fixture.base).port));
  const url = fixture.websocketUrl.replace(/:\d+\//, `:${proxy.port}/`);
  const received: number[] = [];
  const resets: number[] = [];
  const client = new BroadcasterClient({
    url,
    token: () => token(),
    initialBackoffMs: 50,
    maxBackoffMs: 200,
  });
  client.subscribe(
    "room1",
    (message) => received.push(message.payload as number),
    {
      onReset: () => resets.push(received.length),
    },
  );
  await until(() => client.state === "connected", "connected");
  await new Promise((resolve) => setTimeout(resolve, 100));
  const cutter = setInterval(() => proxy.cutAll(), 1000);
  try {
    for (let i = 0; i < 600; i++) {
      const response = await restPublish(fixture.base, {
        channel: "room1",
        event: "n",
        payload: i,
      });
      await response.body?.cancel();
      // About 100 a second: six seconds of publishing, six cuts.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await until(() => received.length >= 600, "600 messages", 20_000);
  } finally {
    clearInterval(cutter);
  }
  assert.ok(proxy.cuts >= 4, `the link was cut (${proxy.cuts} connections)`);
  assert.deepEqual(resets, []);
  assert.deepEqual(received, Array.from({ length: 600 }, (_, i) => i));
  await client.close();
});
