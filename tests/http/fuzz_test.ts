/**
 * Black-box fuzzing (SPEC §12) beside the reducers' property tests: random
 * frames, from a fixed seed, go to a real server over real sockets of each
 * protocol (native, the Real-time Communication Service, Nova). Methods,
 * params, ids and types at random, binary frames, broken JSON and deep
 * nesting. After every run the server is healthy and still delivers.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { TestClient } from "../support/client.ts";
import { novaUrl, viewerClaims } from "../support/nova_client.ts";
import { rtcUrl } from "../support/rtc_client.ts";
import { restPublish, serve, token } from "../support/server.ts";

/** The seed: fixed, so a failure replays; fast-check prints it with the counterexample. */
const SEED = 20261122;

const method = fc.constantFrom(
  "auth",
  "subscribe",
  "unsubscribe",
  "publish",
  "history",
  "presence",
  "presenceStats",
  "trigger",
  "heartbeat",
  "Subscribe",
  "Broadcast",
  "DirectMessage",
  "X-Thing",
  "pong",
  "get_stream_info",
  "report_issue",
  "",
);

/** Nesting as deep as `depth`: a parser's worst case. */
const deep = fc.integer({ min: 1, max: 5_000 }).map((depth) =>
  "[".repeat(depth) + "]".repeat(depth)
);

const frame: fc.Arbitrary<string | Uint8Array<ArrayBuffer>> = fc.oneof(
  fc.record({
    id: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.double()),
    method,
    params: fc.anything(),
  }, { requiredKeys: [] }).map((value) => JSON.stringify(value) ?? "null"),
  fc.record({ type: method, data: fc.anything(), id: fc.anything() }, {
    requiredKeys: [],
  }).map((value) => JSON.stringify(value) ?? "null"),
  fc.record({ event: method, data: fc.anything() }, { requiredKeys: [] })
    .map((value) => JSON.stringify(value) ?? "null"),
  fc.string({ maxLength: 200 }),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  deep,
  fc.uint8Array({ maxLength: 300 }).map((bytes) => new Uint8Array(bytes)),
);

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.onopen = () => resolve(socket);
    socket.onerror = reject;
  });
}

Deno.test({
  name:
    "fuzz: random frames to every protocol over real sockets, from a fixed seed; the server stays healthy and keeps delivering",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await serve();
    await using sentinel = await TestClient.connect(
      `${fixture.websocketUrl}?token=${token()}`,
    );
    await sentinel.ok("subscribe", { channel: "room1" });
    const allScopes = token({
      scope: ["subscribe", "publish", "direct", "trigger"],
      authorizedChannels: ["room1", "room2", "chat:general"],
    });
    const targets = [
      () => `${fixture.websocketUrl}`,
      () => `${fixture.websocketUrl}?token=${allScopes}`,
      () => `${rtcUrl(fixture.base)}?token=${allScopes}`,
      () =>
        `${novaUrl(fixture.base, "fuzz")}?token=${token(viewerClaims("fuzz"))}`,
    ];
    let sent = 0;
    let delivered = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: targets.length - 1 }),
        fc.array(frame, { minLength: 1, maxLength: 20 }),
        async (target, frames) => {
          const socket = await open(targets[target]?.() ?? "");
          const closed = new Promise((resolve) =>
            socket.addEventListener("close", resolve)
          );
          for (const text of frames) {
            if (socket.readyState !== WebSocket.OPEN) break;
            socket.send(text);
            sent++;
          }
          socket.close();
          await closed;
          // Healthy, and still delivering to a bystander.
          const health = await fetch(`${fixture.base}/health`);
          assert.equal(health.status, 200);
          await health.body?.cancel();
          const response = await restPublish(fixture.base, {
            channel: "room1",
            event: "alive",
            payload: ++delivered,
          });
          assert.equal(response.status, 200);
          await response.body?.cancel();
          assert.equal((await sentinel.broadcast()).payload, delivered);
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
    assert.ok(sent > 100, `${sent} frames sent`);
  },
});
