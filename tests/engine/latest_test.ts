/**
 * An engine keeps a channel's latest message of the events it is told to
 * (a Nova stream's state, SPEC §11), beyond history: in memory, and in
 * Redis, where every node reads what any node published.
 */

import assert from "node:assert/strict";
import { createEngine } from "../../src/engine/create.ts";
import type { Engine, KeepsLatest } from "../../src/engine/engine.ts";
import { RedisServer, redisTest } from "../support/redis.ts";

const KEEPS: KeepsLatest = (channel, event) =>
  channel.startsWith("streams:") && event !== "chat";

async function engineOf(
  config: Parameters<typeof createEngine>[0],
  historySize = 1,
): Promise<Engine> {
  const engine = await createEngine(config, {
    deliver: () => {},
    cluster: { toChannel: () => {}, toPatterns: () => {} },
    onControl: () => {},
    keepsLatest: KEEPS,
    historySize,
    historyTtlSeconds: 60,
    clock: Date.now,
  });
  await engine.start(5_000);
  return engine;
}

async function keepsTheLatest(writer: Engine, reader: Engine): Promise<void> {
  const channel = "streams:s1";
  const publish = (event: string, payloadJson: string) =>
    writer.publish({ channel, event, payloadJson });
  await publish("stream_started", '{"n":1}');
  await publish("quality_changed", '{"q":"720p"}');
  await publish("chat", '"not kept"');
  await publish("quality_changed", '{"q":"1080p"}');
  await publish("bitrate_update", "5000");
  await publish("chat", '"history holds only this"');
  const latest = await reader.latest(channel);
  assert.deepEqual(
    latest.map((message) => [message.event, message.payloadJson]),
    [
      ["stream_started", '{"n":1}'],
      ["quality_changed", '{"q":"1080p"}'],
      ["bitrate_update", "5000"],
    ],
    "one per event, oldest first, beyond a history of 1",
  );
  assert.deepEqual(latest.map((message) => message.offset), [1, 4, 5]);
  assert.equal(latest[0]?.id, `${latest[0]?.epoch}-1`);
  await writer.publish({
    channel: "room1",
    event: "stream_started",
    payloadJson: "1",
  });
  assert.deepEqual(
    await reader.latest("room1"),
    [],
    "a channel that keeps none",
  );
  assert.deepEqual(await reader.latest("streams:none"), []);
  assert.equal(await reader.exists(channel), true, "published to: it exists");
  assert.equal(await reader.exists("never"), false);
  assert.equal(await reader.exists("never"), false, "asking creates nothing");
  await reader.read("subscribed-to", null, 1);
  assert.equal(await writer.exists("subscribed-to"), true, "read: it exists");
}

Deno.test("memory engine: the latest message of each kept event, beyond history", async () => {
  const engine = await engineOf({ kind: "memory" });
  try {
    await keepsTheLatest(engine, engine);
  } finally {
    await engine.close();
  }
});

redisTest(
  "redis engine: the latest message of each kept event, read from another node",
  async () => {
    await using redis = await RedisServer.start();
    const one = await engineOf({ kind: "redis", url: redis.url });
    const two = await engineOf({ kind: "redis", url: redis.url });
    try {
      await keepsTheLatest(one, two);
    } finally {
      await one.close();
      await two.close();
    }
  },
);
