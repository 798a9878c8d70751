/** The memory engine: unique increasing ids, timestamps, delivery. */

import assert from "node:assert/strict";
import { EngineUnavailableError } from "../../src/engine/engine.ts";
import { MemoryEngine } from "../../src/engine/memory.ts";
import type { Message } from "../../src/protocol/message.ts";

const NEW = { channel: "room1", event: "e", payloadJson: "1" };

Deno.test("ids stay unique and increasing even when the clock steps back", async () => {
  const times = [1000, 1000, 999, 1001];
  const delivered: Message[] = [];
  const engine = new MemoryEngine({
    deliver: (message) => delivered.push(message),
    clock: () => times.shift() ?? 2000,
  });
  const ids = [];
  for (let i = 0; i < 4; i++) ids.push((await engine.publish(NEW)).id);
  assert.deepEqual(ids, ["1000-0", "1000-1", "1000-2", "1001-0"]);
  assert.deepEqual(delivered.map((message) => message.id), ids);
});

Deno.test("createTime is RFC 3339 UTC with milliseconds", async () => {
  const engine = new MemoryEngine({ deliver: () => {}, clock: () => 0 });
  const accepted = await engine.publish(NEW);
  assert.equal(accepted.createTime, "1970-01-01T00:00:00.000Z");
});

Deno.test("a closed engine refuses publishes loudly and reports unhealthy", async () => {
  const engine = new MemoryEngine({ deliver: () => {} });
  assert.equal(engine.healthy, true);
  await engine.close();
  assert.equal(engine.healthy, false);
  await assert.rejects(engine.publish(NEW), EngineUnavailableError);
});
