/** The memory engine: ids, timestamps, delivery, history and recovery. */

import assert from "node:assert/strict";
import fc from "fast-check";
import { EngineUnavailableError } from "../../src/engine/engine.ts";
import {
  MemoryEngine,
  type MemoryEngineOptions,
} from "../../src/engine/memory.ts";
import type { Message } from "../../src/protocol/message.ts";

const NEW = { channel: "room1", event: "e", payloadJson: "1" };

function engine(options: Partial<MemoryEngineOptions> = {}): MemoryEngine {
  return new MemoryEngine({
    deliver: () => {},
    historySize: 5,
    historyTtlSeconds: 60,
    ...options,
  });
}

async function publishMany(
  target: MemoryEngine,
  count: number,
  channel = "room1",
): Promise<Message[]> {
  const accepted: Message[] = [];
  for (let i = 0; i < count; i++) {
    accepted.push(
      await target.publish({ ...NEW, channel, payloadJson: `${i}` }),
    );
  }
  return accepted;
}

Deno.test("ids stay unique and increasing even when the clock steps back", async () => {
  const times = [1000, 1000, 999, 1001];
  const delivered: Message[] = [];
  const target = engine({
    deliver: (message) => delivered.push(message),
    clock: () => times.shift() ?? 2000,
  });
  const ids = (await publishMany(target, 4)).map((message) => message.id);
  assert.deepEqual(ids, ["1000-0", "1000-1", "1000-2", "1001-0"]);
  assert.deepEqual(delivered.map((message) => message.id), ids);
  await target.close();
});

Deno.test("createTime is RFC 3339 UTC with milliseconds", async () => {
  const target = engine({ clock: () => 0 });
  assert.equal(
    (await target.publish(NEW)).createTime,
    "1970-01-01T00:00:00.000Z",
  );
  await target.close();
});

Deno.test("a closed engine refuses publishes loudly and reports unhealthy", async () => {
  const target = engine();
  assert.equal(target.healthy, true);
  await target.close();
  assert.equal(target.healthy, false);
  await assert.rejects(target.publish(NEW), EngineUnavailableError);
});

Deno.test("history keeps the last HISTORY_SIZE messages per channel, oldest first", async () => {
  const target = engine();
  const accepted = await publishMany(target, 8);
  await publishMany(target, 2, "room2");
  assert.deepEqual(await target.history("room1", 100), accepted.slice(3));
  assert.deepEqual(await target.history("room1", 2), accepted.slice(6));
  assert.equal((await target.history("room2", 100)).length, 2);
  assert.deepEqual(await target.history("nobody", 10), []);
  await target.close();
});

Deno.test("history forgets messages older than HISTORY_TTL_SECONDS", async () => {
  let now = 1_000_000;
  const target = engine({ clock: () => now, historyTtlSeconds: 10 });
  const [old] = await publishMany(target, 1);
  now += 6_000;
  const [recent] = await publishMany(target, 1);
  now += 5_000;
  assert.deepEqual(await target.history("room1", 10), [recent]);
  assert.equal(await target.since("room1", old?.id ?? ""), null);
  now += 10_000;
  assert.deepEqual(await target.history("room1", 10), []);
  await target.close();
});

Deno.test("since: what came after a known id; null when unknown, evicted or expired", async () => {
  const target = engine();
  const accepted = await publishMany(target, 7);
  const id = (i: number) => accepted[i]?.id ?? "";
  assert.deepEqual(await target.since("room1", id(4)), accepted.slice(5));
  assert.deepEqual(await target.since("room1", id(6)), []);
  assert.equal(await target.since("room1", id(1)), null); // evicted
  assert.equal(await target.since("room1", "0-0"), null); // never existed
  assert.equal(await target.since("room2", id(4)), null); // another channel's id
  await target.close();
});

Deno.test("HISTORY_SIZE=0 keeps nothing and never claims a recovery", async () => {
  const target = engine({ historySize: 0 });
  const [first] = await publishMany(target, 2);
  assert.deepEqual(await target.history("room1", 10), []);
  assert.equal(await target.since("room1", first?.id ?? ""), null);
  await target.close();
});

Deno.test("property: since never claims a recovery it cannot make whole", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 6 }),
      fc.array(fc.constantFrom("room1", "room2"), { maxLength: 30 }),
      fc.nat(40),
      async (size, channels, pick) => {
        const target = engine({ historySize: size });
        const all: Message[] = [];
        for (const channel of channels) {
          all.push(await target.publish({ ...NEW, channel }));
        }
        const since = all[pick % Math.max(1, all.length)];
        if (since !== undefined) {
          const replay = await target.since(since.channel, since.id);
          const expected = all.filter((message) =>
            message.channel === since.channel &&
            all.indexOf(message) > all.indexOf(since)
          );
          // Either exactly everything after `since`, or an honest null.
          if (replay !== null) assert.deepEqual(replay, expected);
        }
        await target.close();
      },
    ),
    { numRuns: 300 },
  );
});
