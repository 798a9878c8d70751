/** The hub: seq per subscription, one frame shape, isolation between recipients. */

import assert from "node:assert/strict";
import fc from "fast-check";
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
  const hub = new Hub();
  hub.onChannel((channel, active) => events.push(`${channel}:${active}`));
  const recipient = collector();
  const first = hub.add({ id: "s1", channel: "room1" }, recipient);
  const second = hub.add({ id: "s2", channel: "room1" }, collector());
  assert.equal(hub.subscriptionCount, 2);
  hub.remove(first.subscription);
  hub.remove(first.subscription);
  assert.equal(hub.subscriptionCount, 1);
  hub.deliver(message("1-0"));
  assert.deepEqual(recipient.frames, []);
  hub.remove(second.subscription);
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

Deno.test("a jump in position (messages the engine lost) is a jump in seq", () => {
  const hub = new Hub();
  const recipient = collector();
  hub.add({ id: "s1", channel: "room1" }, recipient);
  for (const position of [7, 8, 12, 13, 1]) {
    hub.deliver({ ...message(`${position}-0`), position });
  }
  // The first position only sets where the channel stands; 1 after 13 is a restarted count, not a gap.
  assert.deepEqual(
    recipient.frames.map((frame) => JSON.parse(frame).params.seq),
    [1, 2, 6, 7, 8],
  );
});

Deno.test("recovery: replay first, then held-back live messages, none twice", () => {
  const hub = new Hub();
  const recipient = collector();
  const entry = hub.add({ id: "s1", channel: "room1" }, recipient, {
    recovering: true,
  });
  // Published while history is being read: 3-0 made it into the read, 4-0 did not.
  hub.deliver(message("3-0"));
  hub.deliver(message("4-0"));
  assert.deepEqual(recipient.frames, []);
  hub.activate(entry.subscription, [message("2-0"), message("3-0")]);
  const received = recipient.frames.map((frame) => JSON.parse(frame).params);
  assert.deepEqual(received.map((params) => [params.id, params.seq]), [
    ["2-0", 1],
    ["3-0", 2],
    ["4-0", 3],
  ]);
  hub.deliver(message("5-0"));
  assert.equal(JSON.parse(recipient.frames[3] ?? "{}").params.seq, 4);
});

Deno.test("recovery: activating a removed subscription delivers nothing", () => {
  const hub = new Hub();
  const recipient = collector();
  const entry = hub.add({ id: "s1", channel: "room1" }, recipient, {
    recovering: true,
  });
  hub.remove(entry.subscription);
  hub.activate(entry.subscription, [message("1-0")]);
  assert.deepEqual(recipient.frames, []);
});

Deno.test("property: every subscription sees seq 1, 2, 3, … with one step per message of its channel", () => {
  const operation = fc.oneof(
    fc.record({
      kind: fc.constant("add" as const),
      channel: fc.constantFrom("a", "b"),
    }),
    fc.record({ kind: fc.constant("remove" as const), index: fc.nat(10) }),
    fc.record({
      kind: fc.constant("publish" as const),
      channel: fc.constantFrom("a", "b"),
    }),
  );
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 60 }), (operations) => {
      const hub = new Hub();
      const live: {
        entry: ReturnType<Hub["add"]>;
        frames: string[];
        expected: number;
      }[] = [];
      let counter = 0;
      for (const op of operations) {
        if (op.kind === "add") {
          const recipient = collector();
          live.push({
            entry: hub.add(
              { id: `s${counter}`, channel: op.channel },
              recipient,
            ),
            frames: recipient.frames,
            expected: 0,
          });
        } else if (op.kind === "remove") {
          const [removed] = live.splice(op.index % Math.max(1, live.length), 1);
          if (removed !== undefined) hub.remove(removed.entry.subscription);
        } else {
          hub.deliver(message(`${counter}-0`, op.channel));
          for (const sub of live) {
            if (sub.entry.subscription.channel === op.channel) sub.expected++;
          }
        }
        counter++;
      }
      for (const sub of live) {
        const seqs = sub.frames.map((frame) => JSON.parse(frame).params.seq);
        assert.deepEqual(
          seqs,
          Array.from({ length: sub.expected }, (_, i) => i + 1),
        );
      }
    }),
    { numRuns: 300 },
  );
});
