/**
 * Integration, SPEC §12: sockets that never authenticate, connection caps
 * refused before the upgrade, client addresses behind a trusted proxy, and
 * REST bodies that trickle in. Default settings unless a test says why.
 */

import assert from "node:assert/strict";
import { TestClient } from "../support/client.ts";
import { novaUrl, viewerClaims } from "../support/nova_client.ts";
import { rawUpgrade } from "../support/raw_client.ts";
import { rtcUrl } from "../support/rtc_client.ts";
import { seriesValue, serve, TEST_API_KEY, token } from "../support/server.ts";

/** The status of a raw WebSocket upgrade request to `url` (with `headers`), the socket then dropped. */
async function upgradeStatus(
  url: string,
  headers: Record<string, string> = {},
): Promise<number> {
  const { status, connection } = await rawUpgrade(url, headers);
  connection.close();
  return status;
}

/** An open, unauthenticated socket. */
async function unauthenticated(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  return socket;
}

function closing(socket: WebSocket): Promise<CloseEvent> {
  return new Promise((resolve) => socket.addEventListener("close", resolve));
}

async function metrics(base: string): Promise<string> {
  return await (await fetch(`${base}/metrics`)).text();
}

Deno.test("hostile: a socket not authenticated within the default 10 s is closed with 4008; an authenticated one stays", async () => {
  await using fixture = await serve();
  const stale = await unauthenticated(fixture.websocketUrl);
  const closed = closing(stale);
  await using good = await TestClient.connect(fixture.websocketUrl);
  await good.ok("auth", { token: token() });
  const opened = Date.now();
  assert.equal(
    seriesValue(await metrics(fixture.base), "broadcaster_pending_connections"),
    1,
  );
  const event = await closed;
  assert.equal(event.code, 4008);
  assert.equal(event.reason, "authentication timeout");
  assert.ok(Date.now() - opened >= 9_000, "not before the timeout");
  assert.equal(good.socket.readyState, WebSocket.OPEN);
  const text = await metrics(fixture.base);
  assert.equal(seriesValue(text, "broadcaster_stale_connections_total"), 1);
  assert.equal(seriesValue(text, "broadcaster_pending_connections"), 0);
});

Deno.test("hostile: at the default MAX_PENDING_CONNECTIONS_PER_IP (100) the 101st unauthenticated socket from one address is refused 429 before the upgrade; a token still gets in", async () => {
  await using fixture = await serve();
  const sockets = await Promise.all(
    Array.from({ length: 100 }, () => unauthenticated(fixture.websocketUrl)),
  );
  try {
    assert.equal(await upgradeStatus(fixture.websocketUrl), 429);
    assert.equal(
      await upgradeStatus(`${fixture.websocketUrl}?token=${token()}`),
      101,
      "an authenticated socket is not pending",
    );
    const text = await metrics(fixture.base);
    assert.equal(
      seriesValue(
        text,
        'broadcaster_connections_refused_total{reason="pending_per_address"}',
      ),
      1,
    );
  } finally {
    await Promise.all(sockets.map((socket) => {
      const closed = closing(socket);
      socket.close();
      return closed;
    }));
  }
});

Deno.test("hostile: MAX_CONNECTIONS refuses with 503 before the upgrade (a cap of 2, so the test holds three sockets, not thousands)", async () => {
  await using fixture = await serve({ MAX_CONNECTIONS: "2" });
  await using one = await TestClient.connect(
    `${fixture.websocketUrl}?token=${token()}`,
  );
  await using two = await TestClient.connect(
    `${fixture.websocketUrl}?token=${token()}`,
  );
  assert.equal(
    await upgradeStatus(`${fixture.websocketUrl}?token=${token()}`),
    503,
  );
  assert.equal(
    seriesValue(
      await metrics(fixture.base),
      'broadcaster_connections_refused_total{reason="max_connections"}',
    ),
    1,
  );
  assert.equal(one.socket.readyState, WebSocket.OPEN);
  assert.equal(two.socket.readyState, WebSocket.OPEN);
});

Deno.test("hostile: MAX_CONNECTIONS_PER_USER: the auth that would exceed it gets ResourceExhausted, then close 1008; a token on the upgrade gets 429", async () => {
  await using fixture = await serve({ MAX_CONNECTIONS_PER_USER: "2" });
  await using one = await TestClient.authed(fixture.websocketUrl, {
    sub: "bob",
  });
  await using two = await TestClient.authed(fixture.websocketUrl, {
    sub: "bob",
  });
  await using three = await TestClient.connect(fixture.websocketUrl);
  const refused = await three.request("auth", { token: token({ sub: "bob" }) });
  assert.equal(refused.error?.code, "ResourceExhausted");
  assert.equal((await three.closed).code, 1008);
  assert.equal(
    await upgradeStatus(
      `${fixture.websocketUrl}?token=${token({ sub: "bob" })}`,
    ),
    429,
  );
  await using other = await TestClient.authed(fixture.websocketUrl, {
    sub: "carol",
  });
  assert.equal(
    other.socket.readyState,
    WebSocket.OPEN,
    "other users are not capped",
  );
  assert.equal(one.socket.readyState, WebSocket.OPEN);
  assert.equal(two.socket.readyState, WebSocket.OPEN);
});

Deno.test("hostile: X-Forwarded-For names the client only with TRUST_PROXY=true (a pending cap of 1, so one socket shows it)", async () => {
  for (const trustProxy of [true, false]) {
    await using fixture = await serve({
      TRUST_PROXY: String(trustProxy),
      MAX_PENDING_CONNECTIONS_PER_IP: "1",
    });
    const first = await unauthenticated(fixture.websocketUrl);
    try {
      const status = await upgradeStatus(fixture.websocketUrl, {
        "X-Forwarded-For": "203.0.113.7, 198.51.100.9",
      });
      assert.equal(
        status,
        trustProxy ? 101 : 429,
        trustProxy
          ? "another address behind the proxy"
          : "the header is not believed",
      );
    } finally {
      const closed = closing(first);
      first.close();
      await closed;
    }
  }
});

/**
 * Sends `POST url` with `headers` and a body of `length` bytes announced,
 * trickled a byte a second; reads everything the server sends until it
 * closes the connection. What came, when the answer began and the close
 * came (ms after the request), and how many body bytes were sent by then.
 */
async function trickledPost(
  url: URL,
  headers: string,
  length: number,
) {
  const connection = await Deno.connect({
    hostname: url.hostname,
    port: Number(url.port),
  });
  await connection.write(new TextEncoder().encode(
    `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n${headers}` +
      `Content-Length: ${length}\r\n\r\n`,
  ));
  const started = Date.now();
  let sent = 0;
  const trickle = setInterval(() => {
    if (sent < length) {
      sent++;
      connection.write(new TextEncoder().encode("{")).catch(() => {});
    }
  }, 1000);
  try {
    const buffer = new Uint8Array(4096);
    let response = "";
    let answeredAt: number | undefined;
    while (true) {
      const read = await connection.read(buffer);
      if (read === null) break;
      answeredAt ??= Date.now() - started;
      response += new TextDecoder().decode(buffer.subarray(0, read));
    }
    return { response, answeredAt, closedAt: Date.now() - started, sent };
  } finally {
    clearInterval(trickle);
    connection.close();
  }
}

Deno.test("hostile: a REST body that trickles in a byte a second gets 408 after the default 10 s, and the server closes its connection at the next byte, the rest unread", async () => {
  await using fixture = await serve();
  const { response, answeredAt, closedAt, sent } = await trickledPost(
    new URL(`${fixture.base}/publish`),
    `Authorization: Bearer ${TEST_API_KEY}\r\n`,
    60,
  );
  assert.match(response, /^HTTP\/1\.1 408/);
  assert.match(response, /connection: close/i);
  assert.match(response, /"code":"InvalidArgument"/);
  assert.match(response, /the body did not arrive within 10 s/);
  assert.ok(answeredAt !== undefined);
  assert.ok(answeredAt >= 9_500 && answeredAt < 15_000, `${answeredAt} ms`);
  assert.equal(fixture.server.requestsInFlight, 0, "the request is over");
  // Freed: closed at the client's next byte, long before the body was in.
  assert.ok(
    closedAt - answeredAt < 2_500,
    `closed ${closedAt - answeredAt} ms after the 408`,
  );
  assert.ok(sent < 60, `closed with ${sent} of 60 bytes sent`);
});

Deno.test("hostile: refusals free the connection of a trickled body too: no API key (401), a body announced over MAX_MESSAGE_BYTES (413), each once the body is 10 s late", async () => {
  await using fixture = await serve();
  const url = new URL(`${fixture.base}/publish`);
  const [keyless, oversized] = await Promise.all([
    trickledPost(url, "", 60),
    trickledPost(url, `Authorization: Bearer ${TEST_API_KEY}\r\n`, 1e9),
  ]);
  assert.match(keyless.response, /^HTTP\/1\.1 401/);
  assert.match(keyless.response, /connection: close/i);
  assert.ok(keyless.answeredAt !== undefined);
  assert.ok(keyless.answeredAt >= 9_500, `${keyless.answeredAt} ms`);
  assert.ok(keyless.closedAt - keyless.answeredAt < 2_500);
  assert.ok(keyless.sent < 60);
  assert.match(oversized.response, /^HTTP\/1\.1 413/);
  assert.match(oversized.response, /connection: close/i);
  assert.ok(oversized.answeredAt !== undefined);
  assert.ok(oversized.answeredAt >= 9_500, `${oversized.answeredAt} ms`);
  assert.ok(oversized.closedAt - oversized.answeredAt < 2_500);
});

Deno.test("hostile: a refusal of a small body that is already in keeps the connection for the next request", async () => {
  await using fixture = await serve();
  const url = new URL(`${fixture.base}/publish`);
  const connection = await Deno.connect({
    hostname: url.hostname,
    port: Number(url.port),
  });
  try {
    const body = "{}";
    const request = `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n` +
      `Content-Length: ${body.length}\r\n\r\n${body}`;
    const buffer = new Uint8Array(4096);
    for (let i = 0; i < 2; i++) {
      await connection.write(new TextEncoder().encode(request));
      const read = await connection.read(buffer);
      const answer = new TextDecoder().decode(buffer.subarray(0, read ?? 0));
      assert.match(answer, /^HTTP\/1\.1 401/, `request ${i + 1}`);
      assert.doesNotMatch(answer, /connection: close/i);
    }
  } finally {
    connection.close();
  }
});

/** A raw upgrade's status, `Retry-After` and JSON body; its connection closed. */
async function refusedUpgrade(url: string) {
  const { status, head, connection, leftover } = await rawUpgrade(url);
  connection.close();
  return {
    status,
    retryAfter: /^retry-after: *(\S+)/im.exec(head)?.[1] ?? null,
    body: JSON.parse(new TextDecoder().decode(leftover)),
  };
}

Deno.test("hostile: each protocol words a cap refusal its own way: the native and REST shape, RTC's Error frame, Nova's error event", async () => {
  {
    await using fixture = await serve({ MAX_CONNECTIONS: "1" });
    await using one = await TestClient.connect(
      `${fixture.websocketUrl}?token=${token()}`,
    );
    const native = await refusedUpgrade(
      `${fixture.websocketUrl}?token=${token()}`,
    );
    assert.deepEqual(native, {
      status: 503,
      retryAfter: "5",
      body: {
        error: {
          code: "Internal",
          message: "server at capacity, try again later",
        },
      },
    });
    const rtc = await refusedUpgrade(
      `${rtcUrl(fixture.base)}?token=${token()}`,
    );
    assert.deepEqual(rtc, {
      status: 503,
      retryAfter: "5",
      body: {
        type: "Error",
        data: {
          code: 503,
          message: "server at capacity, try again later",
          details: {},
        },
      },
    });
    const nova = await refusedUpgrade(
      `${novaUrl(fixture.base, "s1")}?token=${token(viewerClaims("s1"))}`,
    );
    assert.equal(nova.status, 503);
    assert.equal(nova.retryAfter, "5");
    assert.equal(nova.body.event, "error");
    assert.equal(nova.body.data.error_code, "SERVER_ERROR");
    assert.equal(
      nova.body.data.error_message,
      "server at capacity, try again later",
    );
    assert.equal(nova.body.data.suggested_action, "Try again later");
    assert.equal(one.socket.readyState, WebSocket.OPEN);
  }
  {
    await using fixture = await serve({ MAX_CONNECTIONS_PER_USER: "1" });
    await using bob = await TestClient.connect(
      `${fixture.websocketUrl}?token=${token({ sub: "bob" })}`,
    );
    const rtc = await refusedUpgrade(
      `${rtcUrl(fixture.base)}?token=${token({ sub: "bob" })}`,
    );
    assert.equal(rtc.status, 429);
    assert.equal(rtc.retryAfter, null);
    assert.deepEqual(rtc.body.data, {
      code: 429,
      message: "too many connections for this user",
      details: {},
    });
    const nova = await refusedUpgrade(
      `${novaUrl(fixture.base, "s1")}?token=${
        token(viewerClaims("s1", "bob"))
      }`,
    );
    assert.equal(nova.status, 429);
    assert.equal(nova.body.data.error_code, "RATE_LIMITED");
    assert.equal(
      nova.body.data.error_message,
      "too many connections for this user",
    );
    assert.equal(bob.socket.readyState, WebSocket.OPEN);
  }
});
