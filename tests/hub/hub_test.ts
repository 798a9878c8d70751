/** The hub: seq per subscription, one frame shape, isolation between recipients. */

import assert from "node:assert/strict";
import { Hub } from "../../src/hub/hub.ts";
import type { Message } from "../../src/protocol/message.ts";

function message(id: string, channel = "room1"): Message {
  return {
    id,
    channel,
    createTime: "2026-01-02T03:04:05.678Z",
    event: 'say "hi"',
    payloadJson: '{"text":"é"}',
  };
}

function collector() {
  const frames: string[] = [];
  return { frames, deliver: (frame: string) => void frames.push(frame) };
}

Deno.test("a broadcast frame is valid JSON with params in protocol order", () => {
  const hub = new Hub();
  const recipient = collector();
  hub.add({ id: "s1", channel: "room1" }, recipient);
  hub.deliver(message("1-0"));
  const [frame] = recipient.frames;
  assert.ok(frame !== undefined);
  const parsed = JSON.parse(frame);
  assert.deepEqual(parsed, {
    method: "broadcast",
    params: {
      id: "1-0",
      seq: 1,
      createTime: "2026-01-02T03:04:05.678Z",
      channel: "room1",
      event: 'say "hi"',
      payload: { text: "é" },
    },
  });
  assert.deepEqual(Object.keys(parsed.params), [
    "id",
    "seq",
    "createTime",
    "channel",
    "event",
    "payload",
  ]);
});

Deno.test("seq counts per subscription from 1, only for its channel", () => {
  const hub = new Hub();
  const early = collector();
  const late = collector();
  const other = collector();
  hub.add({ id: "s1", channel: "room1" }, early);
  hub.add({ id: "s3", channel: "room2" }, other);
  hub.deliver(message("1-0"));
  hub.add({ id: "s2", channel: "room1" }, late);
  hub.deliver(message("1-1"));
  hub.deliver(message("1-2", "room2"));
  const seqs = (frames: string[]) =>
    frames.map((f) => JSON.parse(f).params.seq);
  assert.deepEqual(seqs(early.frames), [1, 2]);
  assert.deepEqual(seqs(late.frames), [1]);
  assert.deepEqual(seqs(other.frames), [1]);
});

Deno.test("removal stops delivery, is idempotent, and reports channel activity", () => {
  const events: string[] = [];
  const hub = new Hub({
    onChannel: (channel, active) => events.push(`${channel}:${active}`),
  });
  const recipient = collector();
  const first = hub.add({ id: "s1", channel: "room1" }, recipient);
  const second = hub.add({ id: "s2", channel: "room1" }, collector());
  assert.equal(hub.subscriptionCount, 2);
  hub.remove(first);
  hub.remove(first);
  assert.equal(hub.subscriptionCount, 1);
  hub.deliver(message("1-0"));
  assert.deepEqual(recipient.frames, []);
  hub.remove(second);
  assert.equal(hub.channelCount, 0);
  assert.deepEqual(events, ["room1:true", "room1:false"]);
});

Deno.test("a throwing recipient does not keep others from their messages", () => {
  const hub = new Hub();
  const after = collector();
  hub.add({ id: "s1", channel: "room1" }, {
    deliver: () => {
      throw new Error("broken socket");
    },
  });
  hub.add({ id: "s2", channel: "room1" }, after);
  hub.deliver(message("1-0"));
  assert.equal(after.frames.length, 1);
});
