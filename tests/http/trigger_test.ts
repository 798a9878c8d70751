/**
 * Integration, SPEC §10: `trigger` against a real local back-end. The POST
 * is signed (checked here with `node:crypto`, an implementation of its own),
 * the back-end's JSON comes back, and a back-end that fails, answers garbage
 * or is too slow fails only the trigger that asked.
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { TestClient } from "../support/client.ts";
import { serve, serveWithConfig } from "../support/server.ts";

const SECRET = "trigger-secret-for-tests";

/** A back-end on a free port that answers as `answer` says; what it received. */
function backEnd(
  answer: (body: Record<string, unknown>) => Response | Promise<Response>,
) {
  const received: { body: string; signature: string | null }[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const body = await request.text();
      received.push({
        body,
        signature: request.headers.get("x-broadcaster-signature"),
      });
      return await answer(JSON.parse(body));
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/hooks`,
    received,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("trigger: signed POST to the back-end, its JSON answer back; scope and a back-end required", async () => {
  await using hook = backEnd((body) =>
    Response.json({ saved: body.data, by: body.user })
  );
  {
    await using fixture = await serveWithConfig({
      triggerUrl: hook.url,
      triggerSecret: SECRET,
    });
    await using alice = await TestClient.authed(fixture.websocketUrl, {
      sub: "alice",
      scope: ["subscribe", "trigger"],
    });
    const result = await alice.ok("trigger", {
      event: "save",
      data: { draft: 1 },
    });
    assert.deepEqual(result, {
      triggered: "save",
      response: { saved: { draft: 1 }, by: "alice" },
    });
    const [call] = hook.received;
    assert.ok(call !== undefined);
    const body = JSON.parse(call.body);
    assert.deepEqual(Object.keys(body), [
      "event",
      "data",
      "user",
      "connectionId",
    ]);
    assert.equal(body.event, "save");
    assert.equal(
      call.signature,
      `sha256=${createHmac("sha256", SECRET).update(call.body).digest("hex")}`,
    );
    await using bob = await TestClient.authed(fixture.websocketUrl, {
      sub: "bob",
    });
    assert.equal(
      (await bob.request("trigger", { event: "save" })).error?.code,
      "PermissionDenied",
    );
    assert.equal(
      (await alice.request("trigger", { event: "" })).error?.code,
      "InvalidArgument",
    );
  }
  await using plain = await serve();
  await using carol = await TestClient.authed(plain.websocketUrl, {
    scope: ["trigger"],
  });
  const none = await carol.request("trigger", { event: "save" });
  assert.equal(none.error?.code, "FailedPrecondition");
});

Deno.test("trigger: a failing, garbled or slow back-end fails only that trigger", async () => {
  await using hook = backEnd(async (body) => {
    if (body.event === "fail") return new Response("no", { status: 500 });
    if (body.event === "garbage") return new Response("<html>");
    if (body.event === "slow") await new Promise((r) => setTimeout(r, 6_000));
    return Response.json({ ok: true });
  });
  await using fixture = await serveWithConfig({ triggerUrl: hook.url });
  await using alice = await TestClient.authed(fixture.websocketUrl, {
    scope: ["subscribe", "trigger"],
  });
  for (
    const [event, reason] of [["fail", /500/], [
      "garbage",
      /not JSON/,
    ]] as const
  ) {
    const failed = await alice.request("trigger", { event });
    assert.equal(failed.error?.code, "FailedPrecondition");
    assert.match(failed.error?.message ?? "", reason);
  }
  // The slow one is answered after 5 s; meanwhile this connection is served.
  const slowId = alice.sendRequest("trigger", { event: "slow" });
  const started = performance.now();
  assert.ok("timestamp" in await alice.ok("heartbeat"));
  assert.ok(
    performance.now() - started < 1_000,
    "not held up by the trigger",
  );
  const slow = await alice.next(8_000);
  assert.equal(slow.requestId, slowId);
  assert.equal(slow.error?.code, "FailedPrecondition");
  assert.match(slow.error?.message ?? "", /5 s/);
  assert.deepEqual(await alice.ok("trigger", { event: "fine" }), {
    triggered: "fine",
    response: { ok: true },
  });
});
