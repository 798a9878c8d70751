/** `/metrics` on a real server after real traffic; METRICS_TOKEN protects it. */

import assert from "node:assert/strict";
import { TestClient } from "../support/client.ts";
import {
  restPublish,
  seriesValue as value,
  serve,
  token,
} from "../support/server.ts";

Deno.test("metrics count connections, subscriptions, publishes, deliveries, refusals", async () => {
  await using fixture = await serve({ RATE_LIMIT: "1" });
  await using client = await TestClient.connect(
    `${fixture.websocketUrl}?token=${await token()}`,
  );
  await client.ok("subscribe", { channel: "room1" });
  await (await restPublish(fixture.base, { channel: "room1", event: "e" })).body
    ?.cancel();
  await client.broadcast();
  // RATE_LIMIT=1: a burst of 2, and the subscribe spent one; two more heartbeats, one refused.
  client.sendRequest("heartbeat");
  client.sendRequest("heartbeat");
  await client.next();
  assert.equal((await client.next()).error?.code, "ResourceExhausted");
  const refused = await fetch(
    `${fixture.websocketUrl.replace(/^ws/, "http")}?token=bad`,
    {
      headers: {
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-version": "13",
      },
    },
  );
  await refused.body?.cancel();

  const response = await fetch(`${fixture.base}/metrics`);
  assert.equal(response.status, 200);
  assert.match(
    response.headers.get("content-type") ?? "",
    /^text\/plain; version=0\.0\.4/,
  );
  const text = await response.text();
  assert.equal(value(text, "broadcaster_connections"), 1);
  assert.equal(value(text, "broadcaster_subscriptions"), 1);
  assert.equal(value(text, "broadcaster_channels"), 1);
  assert.equal(
    value(text, 'broadcaster_messages_published_total{transport="rest"}'),
    1,
  );
  assert.equal(value(text, "broadcaster_deliveries_total"), 1);
  assert.equal(value(text, "broadcaster_deliveries_dropped_total"), 0);
  assert.equal(value(text, "broadcaster_rate_limited_total"), 1);
  assert.equal(
    value(text, 'broadcaster_auth_failures_total{reason="token malformed"}'),
    1,
  );
  assert.equal(value(text, "broadcaster_publish_duration_seconds_count"), 1);
  assert.equal(value(text, "broadcaster_engine_up"), 1);
  assert.ok(value(text, "process_cpu_seconds_total") > 0);
  assert.ok(value(text, "process_resident_memory_bytes") > 1_000_000);
  const heapUsed = value(text, "deno_heap_used_bytes");
  assert.ok(heapUsed > 1_000_000);
  assert.ok(value(text, "deno_heap_total_bytes") >= heapUsed);
});
