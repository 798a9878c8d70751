/**
 * Integration, SPEC §10–§11 (third row) and document `004`: WebRocket on
 * each app's path (its vhost), against a real server: every event and
 * error id, the app's REST and native clients on the same channels,
 * isolation between apps, bad input, and the auth timeout (SPEC §12).
 */

import assert from "node:assert/strict";
import { mintToken } from "../../src/auth/jwt.ts";
import { TestClient } from "../support/client.ts";
import { settlesWithin } from "../support/observed.ts";
import { DEFAULT_CLAIMS } from "../support/server.ts";
import { WebRocketClient, withVhosts, WORLD } from "../support/webrocket.ts";

Deno.test("webrocket: authenticate → authenticated; INVALID_CREDENTIALS, USER_NOT_FOUND, INVALID_USER_NAME, INVALID_PAYLOAD", async () => {
  await withVhosts(async (_fixture, vhost) => {
    await using client = await WebRocketClient.open(vhost("/world"));
    const cases: [unknown, string][] = [
      [
        { authenticate: { user: "joe", secret: "wrong" } },
        "INVALID_CREDENTIALS",
      ],
      [{ authenticate: { user: "joe" } }, "INVALID_CREDENTIALS"],
      [{ authenticate: { user: "nobody", secret: "x" } }, "USER_NOT_FOUND"],
      [{ authenticate: { secret: "53cr37" } }, "INVALID_USER_NAME"],
      [{ authenticate: { user: "" } }, "INVALID_USER_NAME"],
      [{ authenticate: { user: 42 } }, "INVALID_USER_NAME"],
      [{ authenticate: { user: "j".repeat(129) } }, "INVALID_USER_NAME"],
      [{ authenticate: { user: "joe", secret: 53 } }, "INVALID_PAYLOAD"],
      [{ authenticate: "joe" }, "INVALID_PAYLOAD"],
      [{ authenticate: null }, "INVALID_PAYLOAD"],
    ];
    for (const [frame, id] of cases) {
      const answer = await client.ask(frame);
      assert.equal(answer.err, id, JSON.stringify(frame));
      assert.equal(typeof answer.additional_info, "string");
    }
    assert.deepEqual(
      await client.ask({ authenticate: { user: "joe", secret: "53cr37" } }),
      { authenticated: "joe" },
    );
  });
});

Deno.test("webrocket: subscribe and unsubscribe need READ; channel names checked; unsubscribing an unknown channel is CHANNEL_NOT_FOUND", async () => {
  await withVhosts(async (_fixture, vhost) => {
    const url = vhost("/world");
    await using anonymous = await WebRocketClient.open(url);
    assert.equal(
      (await anonymous.ask({ subscribe: { channel: "hello" } })).err,
      "ACCESS_DENIED",
    );
    await using admin = await WebRocketClient.as(url, "admin", "4dm1n");
    assert.equal(
      (await admin.ask({ subscribe: { channel: "hello" } })).err,
      "ACCESS_DENIED",
      "MANAGE alone does not read",
    );
    await using reader = await WebRocketClient.as(url, "reader", "r34d");
    for (
      const data of [{}, { channel: "" }, { channel: "a b" }, { channel: 5 }]
    ) {
      assert.equal(
        (await reader.ask({ subscribe: data })).err,
        "INVALID_CHANNEL_NAME",
        JSON.stringify(data),
      );
    }
    assert.equal(
      (await reader.ask({ subscribe: "hello" })).err,
      "INVALID_PAYLOAD",
    );
    assert.deepEqual(await reader.ask({ subscribe: { channel: "hello" } }), {
      subscribed: "hello",
    });
    assert.deepEqual(
      await reader.ask({ subscribe: { channel: "hello" } }),
      { subscribed: "hello" },
      "again: still subscribed, once",
    );
    assert.deepEqual(await reader.ask({ unsubscribe: { channel: "hello" } }), {
      unsubscribed: "hello",
    });
    assert.equal(
      (await reader.ask({ unsubscribe: { channel: "hello" } })).err,
      "CHANNEL_NOT_FOUND",
    );
    assert.equal(
      (await reader.ask({ unsubscribe: { channel: "a:" } })).err,
      "INVALID_CHANNEL_NAME",
    );
    assert.equal(
      (await anonymous.ask({ unsubscribe: { channel: "hello" } })).err,
      "ACCESS_DENIED",
    );
  });
});

Deno.test('webrocket: broadcast needs WRITE and a channel that exists; subscribers get exactly {"<event>": {channel, data}}', async () => {
  await withVhosts(async (_fixture, vhost) => {
    const url = vhost("/world");
    await using joe = await WebRocketClient.as(url, "joe", "53cr37");
    await using reader = await WebRocketClient.as(url, "reader", "r34d");
    assert.equal(
      (await joe.ask({ broadcast: { event: "hello", channel: "world" } })).err,
      "CHANNEL_NOT_FOUND",
      "nobody subscribed to it yet",
    );
    await reader.ask({ subscribe: { channel: "world" } });
    const cases: [unknown, string][] = [
      [{ broadcast: { channel: "world" } }, "INVALID_EVENT_NAME"],
      [{ broadcast: { event: "", channel: "world" } }, "INVALID_EVENT_NAME"],
      [
        { broadcast: { event: "subscribed", channel: "world" } },
        "INVALID_EVENT_NAME",
      ],
      [{ broadcast: { event: "hello" } }, "INVALID_CHANNEL_NAME"],
      [{ broadcast: [1] }, "INVALID_PAYLOAD"],
    ];
    for (const [frame, id] of cases) {
      assert.equal((await joe.ask(frame)).err, id, JSON.stringify(frame));
    }
    assert.equal(
      (await reader.ask({ broadcast: { event: "hello", channel: "world" } }))
        .err,
      "ACCESS_DENIED",
      "READ alone does not write",
    );
    assert.deepEqual(
      await joe.ask({
        broadcast: { event: "hello", channel: "world", data: { x: 1 } },
      }),
      { broadcasted: "world" },
    );
    assert.deepEqual(await reader.next("hello"), {
      hello: { channel: "world", data: { x: 1 } },
    });
    await joe.ask({ broadcast: { event: "ping", channel: "world" } });
    assert.deepEqual(await reader.next("ping"), {
      ping: { channel: "world", data: null },
    }, "without data: null");
    await using writer = await WebRocketClient.as(url, "writer", "wr1t3");
    assert.deepEqual(
      await writer.ask({ broadcast: { event: "w", channel: "world" } }),
      { broadcasted: "world" },
      "WRITE alone broadcasts",
    );
  });
});

Deno.test('webrocket: trigger → exactly {"triggered": event} through the app\'s triggerUrl; ASSIGNATION_FAILED without one or when it fails', async () => {
  const calls: Record<string, unknown>[] = [];
  await using backEnd = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const body = await request.json();
      calls.push(body);
      return body.event === "broken"
        ? new Response("no", { status: 500 })
        : Response.json({ ok: true });
    },
  );
  await withVhosts(async (_fixture, vhost) => {
    await using joe = await WebRocketClient.as(
      vhost("/world"),
      "joe",
      "53cr37",
    );
    assert.deepEqual(
      await joe.ask({ trigger: { event: "hello", data: { x: 1 } } }),
      { triggered: "hello" },
    );
    assert.deepEqual(calls[0], {
      event: "hello",
      data: { x: 1 },
      user: "joe",
      connectionId: calls[0]?.connectionId,
    });
    assert.equal(typeof calls[0]?.connectionId, "string");
    assert.equal(
      (await joe.ask({ trigger: { event: "broken" } })).err,
      "ASSIGNATION_FAILED",
    );
    assert.equal(
      (await joe.ask({ trigger: { data: 1 } })).err,
      "INVALID_EVENT_NAME",
    );
    assert.equal((await joe.ask({ trigger: 7 })).err, "INVALID_PAYLOAD");
    await using reader = await WebRocketClient.as(
      vhost("/world"),
      "reader",
      "r34d",
    );
    assert.equal(
      (await reader.ask({ trigger: { event: "hello" } })).err,
      "ACCESS_DENIED",
    );
    await using mars = await WebRocketClient.as(vhost("/mars"), "joe", "m4r5");
    assert.equal(
      (await mars.ask({ trigger: { event: "hello" } })).err,
      "ASSIGNATION_FAILED",
      "mars has no triggerUrl",
    );
  }, { triggerUrl: `http://127.0.0.1:${backEnd.addr.port}/trigger` });
});

Deno.test("webrocket: logout ends the session and every subscription; disconnect closes the socket", async () => {
  await withVhosts(async (_fixture, vhost) => {
    const url = vhost("/world");
    await using joe = await WebRocketClient.as(url, "joe", "53cr37");
    await using reader = await WebRocketClient.as(url, "reader", "r34d");
    await reader.ask({ subscribe: { channel: "news" } });
    assert.equal((await reader.ask({ logout: "yes" })).err, "INVALID_PAYLOAD");
    assert.deepEqual(await reader.ask({ logout: true }), { loggedOut: true });
    assert.equal((await reader.ask({ logout: true })).err, "ACCESS_DENIED");
    assert.equal(
      (await reader.ask({ subscribe: { channel: "news" } })).err,
      "ACCESS_DENIED",
    );
    await joe.ask({ subscribe: { channel: "news" } });
    joe.send({ broadcast: { event: "after", channel: "news" } });
    await joe.next("broadcasted");
    await joe.next("after");
    assert.ok(
      !reader.frames.values.some((frame) => "after" in frame),
      "nothing after the logout",
    );
    assert.equal((await joe.ask({ disconnect: 1 })).err, "INVALID_PAYLOAD");
    joe.send({ disconnect: true });
    assert.equal((await joe.closed).code, 1000);
  });
});

Deno.test("webrocket: the app's REST publishes and native clients share its channels; nothing crosses apps", async () => {
  await withVhosts(async (fixture, vhost) => {
    await using reader = await WebRocketClient.as(
      vhost("/world"),
      "reader",
      "r34d",
    );
    await reader.ask({ subscribe: { channel: "hello" } });
    await using marsJoe = await WebRocketClient.as(
      vhost("/mars"),
      "joe",
      "m4r5",
    );
    await marsJoe.ask({ subscribe: { channel: "hello" } });
    const origin = new URL(fixture.base).origin;
    const published = await fetch(`${origin}/world/publish`, {
      method: "POST",
      headers: { authorization: `Bearer ${WORLD.apiKey}` },
      body: JSON.stringify({
        channel: "hello",
        event: "fromRest",
        payload: "r",
      }),
    });
    assert.equal(published.status, 200);
    await published.body?.cancel();
    assert.deepEqual(await reader.next("fromRest"), {
      fromRest: { channel: "hello", data: "r" },
    });
    const worldToken = mintToken(WORLD.jwtSecret, {
      ...DEFAULT_CLAIMS,
      sub: "alice",
      authorizedChannels: ["hello"],
    }, Date.now());
    await using native = await TestClient.connect(
      `${origin.replace(/^http/, "ws")}/world/websocket?token=${worldToken}`,
    );
    await native.ok("subscribe", { channel: "hello" });
    await using joe = await WebRocketClient.as(
      vhost("/world"),
      "joe",
      "53cr37",
    );
    await joe.ask({
      broadcast: { event: "fromWebRocket", channel: "hello", data: 2 },
    });
    const params = await native.broadcast();
    assert.equal(params.event, "fromWebRocket");
    assert.equal(params.payload, 2);
    await reader.next("fromWebRocket");
    assert.ok(
      !marsJoe.frames.values.some((frame) =>
        "fromRest" in frame || "fromWebRocket" in frame
      ),
      "mars's hello is another channel",
    );
    const disconnected = await fetch(`${origin}/world/disconnect`, {
      method: "POST",
      headers: { authorization: `Bearer ${WORLD.apiKey}` },
      body: JSON.stringify({ user: "joe", reason: "bye" }),
    });
    assert.equal(disconnected.status, 200);
    await disconnected.body?.cancel();
    assert.equal(
      (await joe.closed).code,
      4003,
      "the server API ends a session",
    );
    assert.equal(marsJoe.socket.readyState, WebSocket.OPEN, "not mars's joe");
    await using marsWriter = await WebRocketClient.as(
      vhost("/mars"),
      "joe",
      "m4r5",
    );
    assert.equal(
      (await marsWriter.ask({ broadcast: { event: "x", channel: "news" } }))
        .err,
      "CHANNEL_NOT_FOUND",
      "world's channels do not exist on mars",
    );
  });
});

Deno.test("webrocket: a socket not authenticated within the default 10 s is closed 4008 (SPEC §12); an authenticated one stays", async () => {
  await withVhosts(async (_fixture, vhost) => {
    await using stale = await WebRocketClient.open(vhost("/world"));
    await using joe = await WebRocketClient.as(
      vhost("/world"),
      "joe",
      "53cr37",
    );
    const opened = Date.now();
    const closed = await settlesWithin(
      stale.closed,
      "the unauthenticated socket's close",
      15_000,
    );
    assert.equal(closed.code, 4008);
    assert.equal(closed.reason, "authentication timeout");
    assert.ok(Date.now() - opened >= 9_000, "not before the timeout");
    assert.equal(joe.socket.readyState, WebSocket.OPEN, "authenticated: kept");
  });
});

Deno.test("webrocket: bad input gets INVALID_PAYLOAD and harms nothing: non-objects, several events, unknown events, binary frames", async () => {
  await withVhosts(async (_fixture, vhost) => {
    await using joe = await WebRocketClient.as(
      vhost("/world"),
      "joe",
      "53cr37",
    );
    for (
      const text of [
        "nonsense",
        "[]",
        '"subscribe"',
        "42",
        "null",
        "{}",
        '{"subscribe":{"channel":"a"},"broadcast":{"event":"e","channel":"a"}}',
        '{"dance":true}',
      ]
    ) {
      assert.equal((await joe.ask(text)).err, "INVALID_PAYLOAD", text);
    }
    const before = joe.frames.values.length;
    joe.sendRaw(new Uint8Array([1, 2, 3]));
    const binary = await joe.take(
      (frame) => joe.frames.values.indexOf(frame) >= before,
      "the answer to a binary frame",
    );
    assert.equal(binary.err, "INVALID_PAYLOAD");
    assert.deepEqual(await joe.ask({ subscribe: { channel: "still" } }), {
      subscribed: "still",
    });
  });
});

Deno.test("webrocket: MAX_CONNECTIONS_PER_USER holds at authenticate: over it ACCESS_DENIED and close 1008; the user's socket stays, and its close frees the place", async () => {
  await withVhosts(async (_fixture, vhost) => {
    await using first = await WebRocketClient.as(
      vhost("/world"),
      "joe",
      "53cr37",
    );
    await using second = await WebRocketClient.open(vhost("/world"));
    assert.deepEqual(
      await second.ask({ authenticate: { user: "joe", secret: "53cr37" } }),
      {
        err: "ACCESS_DENIED",
        additional_info: "too many connections for this user",
      },
    );
    const refused = await second.closed;
    assert.equal(refused.code, 1008);
    assert.equal(refused.reason, "too many connections for this user");
    // Another user, and the same user on another app, are not counted with joe.
    await using reader = await WebRocketClient.as(
      vhost("/world"),
      "reader",
      "r34d",
    );
    await using mars = await WebRocketClient.as(vhost("/mars"), "joe", "m4r5");
    assert.equal(first.socket.readyState, WebSocket.OPEN);
    // Re-authenticating as joe on joe's own socket is not one more.
    assert.deepEqual(
      await first.ask({ authenticate: { user: "joe", secret: "53cr37" } }),
      { authenticated: "joe" },
    );
    first.socket.close();
    await first.closed;
    await using third = await WebRocketClient.as(
      vhost("/world"),
      "joe",
      "53cr37",
    );
    assert.equal(third.socket.readyState, WebSocket.OPEN);
    assert.equal(reader.socket.readyState, WebSocket.OPEN);
    assert.equal(mars.socket.readyState, WebSocket.OPEN);
  }, { env: { MAX_CONNECTIONS_PER_USER: "1" } });
});
