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

Deno.test("past the limit: abandoned as tooLarge, from the declared length before reading, or once the bytes pass it", async () => {
  const declared = new Request("http://localhost/", {
    method: "POST",
    body: "0123456789",
    headers: { "content-length": "10" },
  });
  const early = await readBody(declared, 8, 50);
  assert.ok(early instanceof AbandonedBody);
  assert.equal(early.reason, "tooLarge");
  await early.released;
  const fed = fedRequest();
  fed.push("01234");
  fed.push("56789");
  const late = await readBody(fed.request, 8, 50);
  assert.ok(late instanceof AbandonedBody);
  assert.equal(late.reason, "tooLarge");
  await late.released;
  assert.ok(fed.cancelled, "the rest is not read");
});

Deno.test("a Content-Length that is no number of bytes is read as undeclared: the limit still holds", async () => {
  const fed = fedRequest();
  const request = new Request(fed.request, {
    headers: { "content-length": "ten" },
  });
  fed.push("0123456789");
  const body = await readBody(request, 8, 50);
  assert.ok(body instanceof AbandonedBody);
  assert.equal(body.reason, "tooLarge");
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

Deno.test("settleUnreadBody: a refusal that never read the body reads it first; it goes out as it is when the body is in, cut when the body is too large or late", async () => {
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
  const cut = await settleUnreadBody(huge, refusal(), 10, 50);
  assert.equal(cut.status, 401);
  assert.equal(cut.headers.get("connection"), "close");

  const fed = fedRequest();
  fed.push("{");
  const slow = await settleUnreadBody(fed.request, refusal(), 1024, 50);
  assert.equal(slow.headers.get("connection"), "close");
  fed.end();

  const get = new Request("http://localhost/");
  const response = refusal();
  assert.equal(await settleUnreadBody(get, response, 10, 50), response);
});
