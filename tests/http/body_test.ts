/**
 * Reading REST bodies: the byte limit, the deadline, and the release of a
 * body given up on. The default deadline against a real server and a real
 * trickling client is in hostile_test.ts; here the deadline is 50 ms so the
 * unit tests stay fast.
 */

import assert from "node:assert/strict";
import {
  AbandonedBody,
  closingConnection,
  readBody,
  settleUnreadBody,
  TOO_LARGE,
} from "../../src/http/body.ts";

/** A request whose body is fed by hand: `push` a chunk, `end` it. */
function fedRequest() {
  let feed: ReadableStreamDefaultController<Uint8Array> | undefined;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      feed = controller;
    },
    cancel() {
      cancelled = true;
    },
  });
  const request = new Request("http://localhost/publish", {
    method: "POST",
    body,
  });
  return {
    request,
    push: (text: string) => feed?.enqueue(new TextEncoder().encode(text)),
    end: () => feed?.close(),
    get cancelled() {
      return cancelled;
    },
  };
}

Deno.test("a body within the limit is read whole, in chunks or at once", async () => {
  assert.equal(
    await readBody(
      new Request("http://localhost/", { method: "POST", body: "hello" }),
      1024,
      50,
    ),
    "hello",
  );
  const fed = fedRequest();
  fed.push('{"a":');
  fed.push("1}");
  fed.end();
  assert.equal(await readBody(fed.request, 1024, 50), '{"a":1}');
  assert.equal(
    await readBody(new Request("http://localhost/", { method: "POST" }), 8, 50),
    "",
  );
});

Deno.test("past the limit: TOO_LARGE once the body is all in (read on, not kept); abandoned as tooLarge when it is still arriving at the deadline", async () => {
  const declared = new Request("http://localhost/", {
    method: "POST",
    body: "0123456789",
    headers: { "content-length": "10" },
  });
  assert.equal(await readBody(declared, 8, 50), TOO_LARGE);
  const ended = fedRequest();
  ended.push("01234");
  ended.push("56789");
  ended.end();
  assert.equal(await readBody(ended.request, 8, 50), TOO_LARGE);
  const endless = fedRequest();
  endless.push("01234");
  endless.push("56789");
  const body = await readBody(endless.request, 8, 50);
  assert.ok(body instanceof AbandonedBody);
  assert.equal(body.reason, "tooLarge");
  endless.push("x");
  await body.released;
  assert.ok(endless.cancelled, "the rest is not read");
});

Deno.test("a Content-Length that is no number of bytes is read as undeclared: the limit still holds", async () => {
  const fed = fedRequest();
  const request = new Request(fed.request, {
    headers: { "content-length": "ten" },
  });
  fed.push("0123456789");
  fed.end();
  assert.equal(await readBody(request, 8, 50), TOO_LARGE);
});

Deno.test("a body not in by the deadline: abandoned as late, released (cancelled) only once the read under way has ended", async () => {
  const fed = fedRequest();
  fed.push("{");
  const body = await readBody(fed.request, 1024, 50);
  assert.ok(body instanceof AbandonedBody);
  assert.equal(body.reason, "late");
  let released = false;
  body.released.then(() => released = true);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(released, false, "a read is still under way");
  assert.equal(fed.cancelled, false);
  fed.push('"');
  await body.released;
  assert.ok(fed.cancelled);
});

Deno.test("closingConnection: the whole answer, with Connection: close, then a failure once the body is released", async () => {
  let release = () => {};
  const late = new AbandonedBody(
    "late",
    new Promise((resolve) => release = resolve),
  );
  const response = await closingConnection(
    new Response('{"error":{}}', {
      status: 408,
      headers: { "content-type": "application/json" },
    }),
    late,
  );
  assert.equal(response.status, 408);
  assert.equal(response.headers.get("connection"), "close");
  assert.equal(response.headers.get("content-type"), "application/json");
  const reader = response.body?.getReader();
  assert.ok(reader);
  const first = await reader.read();
  assert.equal(new TextDecoder().decode(first.value), '{"error":{}}');
  const next = reader.read();
  release();
  await assert.rejects(next);
});

Deno.test("settleUnreadBody: a refusal that never read the body reads it to its end first; it goes out as it is when the body is in, however large, and cut when it is still arriving at the deadline", async () => {
  const refusal = () => new Response("no", { status: 401 });
  const small = new Request("http://localhost/", {
    method: "POST",
    body: "{}",
  });
  const kept = await settleUnreadBody(small, refusal(), 1024, 50);
  assert.equal(kept.headers.get("connection"), null);
  assert.equal(await kept.text(), "no");
  assert.ok(small.bodyUsed, "read, so the connection can go on");

  const huge = new Request("http://localhost/", {
    method: "POST",
    body: "x".repeat(100),
    headers: { "content-length": "100" },
  });
  const drained = await settleUnreadBody(huge, refusal(), 10, 50);
  assert.equal(drained.headers.get("connection"), null, "all in: kept");

  const endless = fedRequest();
  endless.push("x".repeat(100));
  const cut = await settleUnreadBody(endless.request, refusal(), 10, 50);
  assert.equal(cut.status, 401);
  assert.equal(cut.headers.get("connection"), "close");
  endless.end();

  const fed = fedRequest();
  fed.push("{");
  const slow = await settleUnreadBody(fed.request, refusal(), 1024, 50);
  assert.equal(slow.headers.get("connection"), "close");
  fed.end();

  const get = new Request("http://localhost/");
  const response = refusal();
  assert.equal(await settleUnreadBody(get, response, 10, 50), response);
});

Deno.test("a body whose reading fails (the client went away mid-body) is abandoned as broken, not thrown", async () => {
  let feed: ReadableStreamDefaultController<Uint8Array> | undefined;
  const request = new Request("http://localhost/", {
    method: "POST",
    body: new ReadableStream<Uint8Array>({
      start(controller) {
        feed = controller;
      },
    }),
  });
  feed?.enqueue(new TextEncoder().encode("{"));
  const reading = readBody(request, 1024, 10_000);
  feed?.error(new Error("connection reset"));
  const body = await reading;
  assert.ok(body instanceof AbandonedBody);
  assert.equal(body.reason, "broken");
  await body.released;
});
