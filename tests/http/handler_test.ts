/**
 * The request handler, called with a `Request` and no port: routing, methods,
 * CORS, API keys, REST validation and engine failures.
 */

import assert from "node:assert/strict";
import { pathOf } from "../../src/http/handler.ts";
import { handler, TEST_API_KEY } from "../support/server.ts";

const KEY = { authorization: `Bearer ${TEST_API_KEY}` };

function publish(
  body: BodyInit,
  headers: Record<string, string> = KEY,
): RequestInit {
  return { method: "POST", headers, body };
}

Deno.test("the path of a request URL: no query, no fragment; what URL would give", () => {
  for (
    const url of [
      "http://127.0.0.1:8000/broadcaster/publish",
      "http://127.0.0.1:8000/broadcaster/history?channel=a&limit=1",
      "http://[::1]:8000/a/b?x#y",
      "http://example.com/a#frag?not-a-query",
      "http://example.com/",
      "https://example.com/broad%63aster/publish",
    ]
  ) {
    assert.equal(pathOf(url), new URL(url).pathname, url);
  }
  assert.equal(pathOf("http://example.com"), "/");
});

Deno.test("health answers 200 ok", async () => {
  await using app = await handler();
  const response = await app.fetch("/health");
  assert.equal(response.status, 200);
  assert.equal(await response.text(), "ok");
});

Deno.test("unknown routes are a JSON 404; wrong methods a 405 with Allow", async () => {
  await using app = await handler();
  const missing = await app.fetch("/nope");
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, "NotFound");
  const cases: [string, string, string][] = [
    ["/publish", "GET", "POST, OPTIONS"],
    ["/history", "POST", "GET, OPTIONS"],
    ["/websocket", "POST", "GET"],
    ["/metrics", "POST", "GET"],
    ["/health", "POST", "GET"],
    ["/client.js", "POST", "GET"],
  ];
  for (const [path, method, allow] of cases) {
    const wrong = await app.fetch(path, { method });
    assert.equal(wrong.status, 405, `${method} ${path}`);
    assert.equal(wrong.headers.get("allow"), allow);
    const { error } = await wrong.json();
    assert.equal(error.code, "MethodNotAllowed");
    assert.match(error.message, new RegExp(`^${method} is not allowed here`));
  }
});

Deno.test("outside BASE_PATH, a 404 says where the server lives", async () => {
  await using app = await handler();
  const root = await app.handle(new Request("http://localhost/"));
  assert.equal(root.status, 404);
  assert.match(
    (await root.json()).error.message,
    /Broadcaster serves under \/broadcaster\/ \(BASE_PATH\)/,
  );
  const inside = await app.fetch("/nope");
  assert.equal((await inside.json()).error.message, "no such route");
});

Deno.test("REST errors speak REST: no params. prefix, a body that is not an object says so", async () => {
  await using app = await handler();
  const message = async (body: string) =>
    (await (await app.fetch("/publish", publish(body))).json()).error.message;
  assert.equal(await message("[]"), "body must be a JSON object");
  assert.equal(await message("3"), "body must be a JSON object");
  assert.equal(
    await message(JSON.stringify({ channel: "room1", event: "" })),
    "event: must not be empty",
  );
  assert.equal(
    await message(JSON.stringify({ event: "e" })),
    "channel: must be a string",
  );
});

Deno.test("BASE_PATH is honoured, including the empty one", async () => {
  await using rooted = await handler({ BASE_PATH: "" });
  assert.equal((await rooted.fetch("/health")).status, 200);
  await using based = await handler({ BASE_PATH: "/rt" });
  assert.equal((await based.fetch("/health")).status, 200);
  const outside = await based.fetch("/../broadcaster/health");
  assert.equal(outside.status, 404);
  await outside.body?.cancel();
});

Deno.test("a plain GET on the socket path asks for an upgrade", async () => {
  await using app = await handler();
  const response = await app.fetch("/websocket");
  assert.equal(response.status, 426);
  assert.equal(response.headers.get("upgrade"), "websocket");
  await response.body?.cancel();
});

Deno.test("the console: a redirect to the slash, the page, the SDK; off with CONSOLE=false", async () => {
  await using app = await handler();
  const redirect = await app.fetch("");
  assert.equal(redirect.status, 308);
  assert.match(redirect.headers.get("location") ?? "", /\/broadcaster\/$/);
  const page = await app.fetch("/");
  assert.match(page.headers.get("content-type") ?? "", /text\/html/);
  assert.match(await page.text(), /client\.js/);
  const icon = await app.fetch("/favicon.svg");
  assert.equal(icon.headers.get("content-type"), "image/svg+xml");
  assert.match(await icon.text(), /^<svg/);
  const sdk = await app.fetch("/client.js");
  assert.match(sdk.headers.get("content-type") ?? "", /javascript/);
  assert.match(await sdk.text(), /BroadcasterClient/);
  await using off = await handler({ CONSOLE: "false" });
  const none = await off.fetch("/");
  assert.equal(none.status, 404);
  await none.body?.cancel();
});

Deno.test("REST publish: API key as Bearer or bare; missing or wrong is 401", async () => {
  await using app = await handler();
  const body = JSON.stringify({ channel: "room1", event: "e", payload: null });
  const status = async (headers: Record<string, string>) => {
    const response = await app.fetch("/publish", publish(body, headers));
    const json = await response.json();
    return response.status === 200
      ? 200
      : `${response.status} ${json.error.code}`;
  };
  assert.equal(await status({ authorization: `Bearer ${TEST_API_KEY}` }), 200);
  assert.equal(await status({ authorization: TEST_API_KEY }), 200);
  assert.equal(await status({ authorization: "other-key" }), 200);
  assert.equal(await status({}), "401 Unauthenticated");
  assert.equal(
    await status({ authorization: "Bearer wrong" }),
    "401 Unauthenticated",
  );
  assert.equal(
    await status({ authorization: "Bearer " }),
    "401 Unauthenticated",
  );
  // A prefix or an extension of a key is not the key.
  assert.equal(
    await status({ authorization: TEST_API_KEY.slice(0, -1) }),
    "401 Unauthenticated",
  );
  assert.equal(
    await status({ authorization: `${TEST_API_KEY}x` }),
    "401 Unauthenticated",
  );
});

Deno.test("REST publish: 200 with the id and createTime the engine gave", async () => {
  await using app = await handler();
  const response = await app.fetch(
    "/publish",
    publish(JSON.stringify({ channel: "room1", event: "e", payload: [1] })),
  );
  assert.equal(response.status, 200);
  const { id, createTime } = await response.json();
  assert.equal(typeof id, "string");
  assert.match(createTime, /Z$/);
});

Deno.test("REST publish: bad input is a 400 with a clear message, oversized bodies a 413", async () => {
  await using app = await handler({ MAX_MESSAGE_BYTES: "1024" });
  const answer = async (body: string) => {
    const response = await app.fetch("/publish", publish(body));
    return [response.status, (await response.json()).error?.code];
  };
  assert.deepEqual(await answer("{nope"), [400, "InvalidArgument"]);
  assert.deepEqual(await answer("[]"), [400, "InvalidArgument"]);
  assert.deepEqual(
    await answer(JSON.stringify({ channel: "a b", event: "e" })),
    [400, "InvalidArgument"],
  );
  assert.deepEqual(
    await answer(JSON.stringify({ channel: "room1", event: "" })),
    [400, "InvalidArgument"],
  );
  assert.deepEqual(
    await answer(
      JSON.stringify({
        channel: "room1",
        event: "e",
        payload: "x".repeat(2000),
      }),
    ),
    [413, "InvalidArgument"],
  );
  // Without Content-Length (streamed), the limit still holds.
  const stream = new ReadableStream({
    start(controller) {
      for (let i = 0; i < 10; i++) controller.enqueue(new Uint8Array(512));
      controller.close();
    },
  });
  const streamed = await app.fetch("/publish", publish(stream));
  assert.equal(streamed.status, 413);
  await streamed.body?.cancel();
});

Deno.test("REST CORS: * by default, configured origins echoed, preflight answered", async () => {
  await using open = await handler();
  const body = JSON.stringify({ channel: "room1", event: "e" });
  const any = await open.fetch("/publish", publish(body));
  assert.equal(any.headers.get("access-control-allow-origin"), "*");
  await any.body?.cancel();
  const preflight = await open.fetch("/publish", {
    method: "OPTIONS",
    headers: {
      origin: "https://app.example",
      "access-control-request-method": "POST",
    },
  });
  assert.equal(preflight.status, 204);
  assert.match(
    preflight.headers.get("access-control-allow-methods") ?? "",
    /POST/,
  );
  assert.match(
    preflight.headers.get("access-control-allow-headers") ?? "",
    /Authorization/,
  );
  await using closed = await handler({
    ALLOWED_ORIGINS: "https://app.example",
  });
  const allowed = await closed.fetch(
    "/publish",
    publish(body, { ...KEY, origin: "https://app.example" }),
  );
  assert.equal(
    allowed.headers.get("access-control-allow-origin"),
    "https://app.example",
  );
  assert.equal(allowed.headers.get("vary"), "Origin");
  await allowed.body?.cancel();
  const foreign = await closed.fetch(
    "/publish",
    publish(body, { ...KEY, origin: "https://evil.example" }),
  );
  assert.equal(foreign.headers.get("access-control-allow-origin"), null);
  await foreign.body?.cancel();
  // Errors carry CORS too, so a browser can read them: 401, 400, 413, 405.
  for (
    const answer of [
      await open.fetch("/publish", publish(body, {})),
      await open.fetch("/publish", publish("{nope")),
      await open.fetch("/publish", publish("x".repeat(70_000))),
      await open.fetch("/publish", { method: "PUT" }),
      await open.fetch("/history", { method: "POST" }),
    ]
  ) {
    assert.equal(answer.headers.get("access-control-allow-origin"), "*");
    await answer.body?.cancel();
  }
});

Deno.test("REST history: API key required, bad parameters are 400, limit capped at HISTORY_SIZE", async () => {
  await using app = await handler({ HISTORY_SIZE: "3" });
  const status = async (query: string, key: string | null = TEST_API_KEY) => {
    const response = await app.fetch(`/history${query}`, {
      headers: key === null ? {} : { authorization: key },
    });
    await response.body?.cancel();
    return response.status;
  };
  assert.equal(await status("?channel=room1", null), 401);
  assert.equal(await status("?channel=room1", "wrong"), 401);
  assert.equal(await status(""), 400);
  assert.equal(await status("?channel=a::b"), 400);
  assert.equal(await status("?channel=room1&limit=0"), 400);
  assert.equal(await status("?channel=room1&limit=x"), 400);
  for (let i = 0; i < 5; i++) {
    await (await app.fetch(
      "/publish",
      publish(JSON.stringify({ channel: "room1", event: "e", payload: i })),
    )).body?.cancel();
  }
  const capped = await app.fetch("/history?channel=room1&limit=100", {
    headers: KEY,
  });
  const { messages } = await capped.json();
  assert.deepEqual(
    messages.map((message: { payload: number }) => message.payload),
    [2, 3, 4],
  );
});

Deno.test("an engine that fails: 503 and the same message the socket gets; /health says so", async () => {
  await using app = await handler();
  // A closed engine refuses as an unreachable Redis does.
  await app.services.engine.close();
  const response = await app.fetch(
    "/publish",
    publish(JSON.stringify({ channel: "room1", event: "e" })),
  );
  assert.equal(response.status, 503);
  assert.deepEqual(await response.json(), {
    error: {
      code: "Internal",
      message: "publish failed: the engine is unavailable, try again",
    },
  });
  const health = await app.fetch("/health");
  assert.equal(health.status, 503);
  assert.equal(await health.text(), "engine unavailable");
});

Deno.test("METRICS_TOKEN guards /metrics", async () => {
  await using app = await handler({ METRICS_TOKEN: "scrape-me" });
  const status = async (headers: Record<string, string>) => {
    const response = await app.fetch("/metrics", { headers });
    await response.body?.cancel();
    return response.status;
  };
  assert.equal(await status({}), 401);
  assert.equal(await status({ authorization: "Bearer nope" }), 401);
  assert.equal(await status({ authorization: "Bearer scrape-me" }), 200);
});

Deno.test("the client's address: the peer's, or with TRUST_PROXY the last X-Forwarded-For entry when it is an address", async () => {
  const { clientAddress } = await import("../../src/http/handler.ts");
  const request = (forwarded: string) =>
    new Request("http://localhost/", {
      headers: { "x-forwarded-for": forwarded },
    });
  assert.equal(
    clientAddress(request("203.0.113.7"), "127.0.0.1", false),
    "127.0.0.1",
  );
  assert.equal(
    clientAddress(request("1.1.1.1, 10.0.0.5"), "127.0.0.1", true),
    "10.0.0.5",
    "the proxy's entry, not the client's own",
  );
  assert.equal(
    clientAddress(request("2001:db8::1"), "127.0.0.1", true),
    "2001:db8::1",
  );
  assert.equal(
    clientAddress(request("garbage"), "127.0.0.1", true),
    "127.0.0.1",
  );
  assert.equal(clientAddress(request(""), "127.0.0.1", true), "127.0.0.1");
});
