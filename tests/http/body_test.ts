/**
 * Reading REST bodies: the byte limit, the deadline, and the release of a
 * body given up on. The default deadline against a real server and a real
 * trickling client is in hostile_test.ts; here the deadline is 50 ms so the
 * unit tests stay fast.
 */

import assert from "node:assert/strict";
import { closingConnection, LateBody, readBody } from "../../src/http/body.ts";

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

Deno.test("past the limit: null, from the declared length before reading, or once the bytes pass it", async () => {
  const declared = new Request("http://localhost/", {
    method: "POST",
    body: "0123456789",
    headers: { "content-length": "10" },
  });
  assert.equal(await readBody(declared, 8, 50), null);
  const fed = fedRequest();
  fed.push("01234");
  fed.push("56789");
  assert.equal(await readBody(fed.request, 8, 50), null);
  assert.ok(fed.cancelled, "the rest is not read");
});

Deno.test("a body not in by the deadline: a LateBody, released (cancelled) only once the read under way has ended", async () => {
  const fed = fedRequest();
  fed.push("{");
  const body = await readBody(fed.request, 1024, 50);
  assert.ok(body instanceof LateBody);
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
  const late = new LateBody(new Promise((resolve) => release = resolve));
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
