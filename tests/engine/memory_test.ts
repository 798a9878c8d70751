/** The memory engine: ids, timestamps, delivery, history and recovery. */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  EngineUnavailableError,
  STREAM_META_TTL_MS,
} from "../../src/engine/engine.ts";
import {
  MemoryEngine,
  type MemoryEngineOptions,
} from "../../src/engine/memory.ts";
import type { Message } from "../../src/protocol/message.ts";
import { EpochSource } from "../../src/protocol/position.ts";

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

Deno.test("ids are positions: <epoch>-<offset>, offsets counting per channel, delivered in order", async () => {
  const delivered: Message[] = [];
  const target = engine({
    deliver: (message) => delivered.push(message),
    epochs: new EpochSource("test"),
  });
  const room1 = await publishMany(target, 3);
  const room2 = await publishMany(target, 1, "room2");
  assert.deepEqual(room1.map((message) => message.id), [
    "test0-1",
    "test0-2",
    "test0-3",
  ]);
  assert.deepEqual(room2.map((message) => message.id), ["test1-1"]);
  assert.deepEqual(delivered, [...room1, ...room2]);
  assert.deepEqual(
    room1.map(({ epoch, offset }) => [epoch, offset]),
    [["test0", 1], ["test0", 2], ["test0", 3]],
  );
  await target.close();
});

Deno.test("every channel has a position, also one that never had a message", async () => {
  const target = engine({ epochs: new EpochSource("test") });
  const empty = await target.read("quiet", null, 10);
  assert.deepEqual(empty, {
    position: { epoch: "test0", offset: 0 },
    messages: [],
    recovered: false,
  });
  // The position holds: a publish after it is exactly what comes after it.
  const [first] = await publishMany(target, 1, "quiet");
  const after = await target.read("quiet", empty.position, 10);
  assert.deepEqual(after, {
    position: { epoch: "test0", offset: 1 },
    messages: [first],
    recovered: true,
  });
  assert.deepEqual(
    (await target.read("quiet", after.position, 10)).recovered,
    true,
  );
  await target.close();
});

Deno.test("a restart is a new epoch: a position from before it recovers nothing", async () => {
  const before = engine();
  await publishMany(before, 3);
  const { position } = await before.read("room1", null, 10);
  await before.close();
  const after = engine();
  await publishMany(after, 3);
  const read = await after.read("room1", position, 10);
  assert.notEqual(read.position.epoch, position.epoch);
  assert.equal(read.recovered, false);
  assert.deepEqual(read.messages, []);
  await after.close();
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
  assert.ok(old !== undefined);
  assert.equal((await target.read("room1", old, 10)).recovered, true);
  assert.equal(
    (await target.read("room1", { epoch: old.epoch, offset: 0 }, 10))
      .recovered,
    false,
  );
  now += 10_000;
  assert.deepEqual(await target.history("room1", 10), []);
  await target.close();
});

Deno.test("read: what came after a position, capped; recovered only when nothing after it is lost", async () => {
  const target = engine();
  const accepted = await publishMany(target, 7);
  const at = (i: number) => {
    const message = accepted[i];
    assert.ok(message !== undefined);
    return message;
  };
  const { epoch } = at(0);
  const read = (offset: number, limit = 10) =>
    target.read("room1", { epoch, offset }, limit);
  assert.deepEqual(await read(5), {
    position: { epoch, offset: 7 },
    messages: accepted.slice(5),
    recovered: true,
  });
  assert.deepEqual((await read(7)).messages, []);
  assert.equal((await read(7)).recovered, true);
  // Offset 2 is evicted (HISTORY_SIZE 5 keeps 3..7): what is left, not recovered.
  assert.deepEqual(await read(1), {
    position: { epoch, offset: 7 },
    messages: accepted.slice(2),
    recovered: false,
  });
  assert.deepEqual((await read(2, 2)).messages, accepted.slice(2, 4));
  assert.equal((await read(2, 2)).recovered, true);
  // From the future, or of another epoch or channel: nothing.
  assert.equal((await read(8)).recovered, false);
  assert.equal(
    (await target.read("room1", { epoch: "other", offset: 5 }, 10)).recovered,
    false,
  );
  assert.equal((await target.read("room2", at(4), 10)).recovered, false);
  await target.close();
});

Deno.test("HISTORY_SIZE=0 keeps nothing and recovers only a position with nothing after it", async () => {
  const target = engine({ historySize: 0 });
  const [first, second] = await publishMany(target, 2);
  assert.ok(first !== undefined && second !== undefined);
  assert.deepEqual(await target.history("room1", 10), []);
  assert.equal((await target.read("room1", first, 10)).recovered, false);
  assert.equal((await target.read("room1", second, 10)).recovered, true);
  await target.close();
});

Deno.test("a quiet stream keeps its position a day after its last use, then is forgotten", async () => {
  let now = 1_000_000;
  const target = engine({ clock: () => now, historyTtlSeconds: 1 });
  const { position } = await target.read("quiet", null, 1);
  await target.listen("quiet");
  target.unlisten("quiet");
  now += STREAM_META_TTL_MS - 1;
  assert.equal((await target.read("quiet", position, 1)).recovered, true);
  now += STREAM_META_TTL_MS + 1;
  assert.equal((await target.read("quiet", position, 1)).recovered, false);
  await target.close();
});

Deno.test("property: read never claims a recovery it cannot make whole", async () => {
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
          const read = await target.read(since.channel, since, 100);
          const expected = all.filter((message) =>
            message.channel === since.channel &&
            all.indexOf(message) > all.indexOf(since)
          );
          // Either exactly everything after `since`, or an honest false.
          if (read.recovered) assert.deepEqual(read.messages, expected);
          else assert.ok(expected.length > 0);
        }
        await target.close();
      },
    ),
    { numRuns: 300 },
  );
});
