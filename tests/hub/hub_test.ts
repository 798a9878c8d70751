/**
 * The hub: `seq` from stream offsets, one frame shape, starting from a
 * position with a replay, lagging subscribers caught up from history, and
 * isolation between recipients.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { Hub, type Recipient } from "../../src/hub/hub.ts";
import type { Message } from "../../src/protocol/message.ts";
import type { Subscription } from "../../src/protocol/state.ts";

/** Message `offset` of `channel`'s stream in `epoch`. */
function message(offset: number, channel = "room1", epoch = "ep"): Message {
  return {
    id: `${epoch}-${offset}`,
    channel,
    createTime: "2026-01-02T03:04:05.678Z",
    event: 'say "hi"',
    payloadJson: '{"text":"é"}',
    epoch,
    offset,
  };
}

function messages(from: number, to: number): Message[] {
  return Array.from({ length: to - from + 1 }, (_, i) => message(from + i));
}

/** A recipient that keeps what it is sent and refuses while `full`. */
class Collector implements Recipient {
  readonly frames: string[] = [];
  full = false;
  lags = 0;
  readonly framing = undefined;

  deliver(frame: string): boolean {
    if (this.full) return false;
    this.frames.push(frame);
    return true;
  }

  lagging(): void {
    this.lags++;
  }

  readonly notes: string[] = [];

  notify(frame: string): void {
    this.notes.push(frame);
  }

  /** `[id, seq]` of every frame received. */
  get received(): [string, number][] {
    return this.frames.map((frame) => {
      const { params } = JSON.parse(frame);
      return [params.id, params.seq];
    });
  }
}

/** Adds a subscription and starts it live at `offset` of epoch `ep`. */
function live(
  hub: Hub,
  subscription: Subscription,
  offset = 0,
): Collector {
  const recipient = new Collector();
  hub.add(subscription, recipient);
  hub.start(subscription, {
    epoch: "ep",
    base: offset,
    replay: [],
    end: offset,
  });
  return recipient;
}

const S1 = { id: "s1", channel: "room1" };

Deno.test("a broadcast frame is valid JSON with params in protocol order", () => {
  const hub = new Hub();
  const recipient = live(hub, S1);
  hub.deliver(message(1));
  const [frame] = recipient.frames;
  assert.ok(frame !== undefined);
  const parsed = JSON.parse(frame);
  assert.deepEqual(parsed, {
    method: "broadcast",
    params: {
      id: "ep-1",
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

Deno.test("seq counts per subscription from 1 after its position, only for its channel", () => {
  const hub = new Hub();
  const early = live(hub, S1);
  const other = live(hub, { id: "s3", channel: "room2" });
  hub.deliver(message(1));
  const late = live(hub, { id: "s2", channel: "room1" }, 1);
  hub.deliver(message(2));
  hub.deliver(message(1, "room2"));
  assert.deepEqual(early.received.map(([, seq]) => seq), [1, 2]);
  assert.deepEqual(late.received, [["ep-2", 1]]);
  assert.deepEqual(other.received.map(([, seq]) => seq), [1]);
});

Deno.test("a subscription holds live messages until it starts; none before its position, none twice", () => {
  const hub = new Hub();
  const recipient = new Collector();
  hub.add(S1, recipient);
  // Published while the position was being read: 3 is covered by it, 4 is not.
  hub.deliver(message(3));
  hub.deliver(message(4));
  assert.deepEqual(recipient.frames, []);
  hub.start(S1, { epoch: "ep", base: 3, replay: [], end: 3 });
  hub.deliver(message(5));
  assert.deepEqual(recipient.received, [["ep-4", 1], ["ep-5", 2]]);
});

Deno.test("recovery: the replay from since, then held-back live messages, none twice", () => {
  const hub = new Hub();
  const recipient = new Collector();
  hub.add(S1, recipient);
  // Published while history was being read: 3 made it into the read, 4 did not.
  hub.deliver(message(3));
  hub.deliver(message(4));
  hub.start(S1, { epoch: "ep", base: 1, replay: messages(2, 3), end: 3 });
  assert.deepEqual(recipient.received, [
    ["ep-2", 1],
    ["ep-3", 2],
    ["ep-4", 3],
  ]);
  hub.deliver(message(5));
  assert.deepEqual(recipient.received.at(-1), ["ep-5", 4]);
});

Deno.test("recovery: starting a removed subscription delivers nothing", () => {
  const hub = new Hub();
  const recipient = new Collector();
  hub.add(S1, recipient);
  hub.remove(S1);
  hub.start(S1, { epoch: "ep", base: 0, replay: [message(1)], end: 1 });
  assert.deepEqual(recipient.frames, []);
});

Deno.test("a replay read in batches lags at its end and catches up from history", () => {
  const hub = new Hub();
  const recipient = new Collector();
  hub.add(S1, recipient);
  hub.deliver(message(6));
  hub.start(S1, { epoch: "ep", base: 0, replay: messages(1, 2), end: 5 });
  assert.deepEqual(recipient.received.map(([id]) => id), ["ep-1", "ep-2"]);
  assert.equal(recipient.lags, 1);
  // Lagging: nothing live is offered.
  hub.deliver(message(7));
  assert.equal(recipient.frames.length, 2);
  assert.deepEqual(hub.catchUp(S1), { epoch: "ep", offset: 2 });
  assert.equal(hub.catchUp(S1), null, "already catching up");
  hub.deliver(message(8));
  hub.resume(S1, {
    position: { epoch: "ep", offset: 7 },
    messages: messages(3, 7),
    recovered: true,
  });
  assert.deepEqual(
    recipient.received,
    messages(1, 8).map((m, i) => [m.id, i + 1]),
  );
});

Deno.test("a refused broadcast makes the subscription lag; the catch-up sends it, seq continuing", () => {
  const hub = new Hub();
  const recipient = live(hub, S1);
  const other = live(hub, { id: "s2", channel: "room1" });
  hub.deliver(message(1));
  recipient.full = true;
  hub.deliver(message(2));
  hub.deliver(message(3));
  assert.equal(recipient.lags, 1, "reported once, however much it misses");
  recipient.full = false;
  hub.deliver(message(4));
  assert.equal(recipient.frames.length, 1, "nothing overtakes what it missed");
  assert.equal(other.frames.length, 4, "the others are not held up");
  assert.equal(hub.catchUp({ id: "s2", channel: "room1" }), null);
  assert.deepEqual(hub.catchUp(S1), { epoch: "ep", offset: 1 });
  hub.resume(S1, {
    position: { epoch: "ep", offset: 4 },
    messages: messages(2, 4),
    recovered: true,
  });
  hub.deliver(message(5));
  assert.deepEqual(recipient.received, other.received);
});

Deno.test("what history lost while a subscriber lagged shows as a seq gap at once", () => {
  const hub = new Hub();
  const recipient = live(hub, S1);
  hub.deliver(message(1));
  recipient.full = true;
  hub.deliver(message(2));
  recipient.full = false;
  hub.catchUp(S1);
  // 2 and 3 are gone from history; 4 is left.
  hub.resume(S1, {
    position: { epoch: "ep", offset: 4 },
    messages: [message(4)],
    recovered: false,
  });
  assert.deepEqual(recipient.received, [["ep-1", 1], ["ep-4", 4]]);
});

Deno.test("a catch-up that cannot read history lags again, and is retried", () => {
  const hub = new Hub();
  const recipient = live(hub, S1);
  recipient.full = true;
  hub.deliver(message(1));
  recipient.full = false;
  hub.catchUp(S1);
  hub.resume(S1, null);
  assert.equal(recipient.lags, 2);
  assert.deepEqual(hub.catchUp(S1), { epoch: "ep", offset: 0 });
  hub.resume(S1, {
    position: { epoch: "ep", offset: 1 },
    messages: [message(1)],
    recovered: true,
  });
  assert.deepEqual(recipient.received, [["ep-1", 1]]);
});

Deno.test("a catch-up refused again lags from the first message it could not send", () => {
  const hub = new Hub();
  let room = 2;
  const recipient = new Collector();
  recipient.deliver = (frame) =>
    room-- > 0 && (recipient.frames.push(frame), true);
  hub.add(S1, recipient);
  hub.start(S1, { epoch: "ep", base: 0, replay: messages(1, 5), end: 5 });
  assert.equal(recipient.frames.length, 2);
  assert.deepEqual(hub.catchUp(S1), { epoch: "ep", offset: 2 });
});

Deno.test("a jump in offset (messages this node missed) is a jump in seq; a new epoch counts on", () => {
  const hub = new Hub();
  const recipient = live(hub, S1, 6);
  for (const offset of [7, 8, 12, 13]) hub.deliver(message(offset));
  hub.deliver(message(1, "room1", "new"));
  hub.deliver(message(2, "room1", "new"));
  assert.deepEqual(
    recipient.received.map(([, seq]) => seq),
    [1, 2, 6, 7, 8, 9],
  );
});

Deno.test("a message delivered twice (a node catching up) is sent once", () => {
  const hub = new Hub();
  const recipient = live(hub, S1);
  hub.deliver(message(1));
  hub.deliver(message(1));
  assert.equal(recipient.frames.length, 1);
});

Deno.test("removal stops delivery, is idempotent, and reports channel activity", () => {
  const events: string[] = [];
  const hub = new Hub();
  hub.onChannel((channel, active) => events.push(`${channel}:${active}`));
  const recipient = live(hub, S1);
  live(hub, { id: "s2", channel: "room1" });
  assert.equal(hub.subscriptionCount, 2);
  hub.remove(S1);
  hub.remove(S1);
  assert.equal(hub.subscriptionCount, 1);
  hub.deliver(message(1));
  assert.deepEqual(recipient.frames, []);
  hub.remove({ id: "s2", channel: "room1" });
  assert.equal(hub.channelCount, 0);
  assert.deepEqual(events, ["room1:true", "room1:false"]);
});

Deno.test("a throwing recipient does not keep others from their messages", () => {
  const hub = new Hub();
  const broken = new Collector();
  broken.deliver = () => {
    throw new Error("broken socket");
  };
  hub.add(S1, broken);
  hub.start(S1, { epoch: "ep", base: 0, replay: [], end: 0 });
  const after = live(hub, { id: "s2", channel: "room1" });
  hub.deliver(message(1));
  assert.equal(after.frames.length, 1);
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
      const offsets = new Map<string, number>();
      const subscribers: {
        subscription: Subscription;
        recipient: Collector;
        expected: number;
      }[] = [];
      let counter = 0;
      for (const op of operations) {
        if (op.kind === "add") {
          const subscription = { id: `s${counter}`, channel: op.channel };
          subscribers.push({
            subscription,
            recipient: live(hub, subscription, offsets.get(op.channel) ?? 0),
            expected: 0,
          });
        } else if (op.kind === "remove") {
          const [removed] = subscribers.splice(
            op.index % Math.max(1, subscribers.length),
            1,
          );
          if (removed !== undefined) hub.remove(removed.subscription);
        } else {
          const offset = (offsets.get(op.channel) ?? 0) + 1;
          offsets.set(op.channel, offset);
          hub.deliver(message(offset, op.channel));
          for (const sub of subscribers) {
            if (sub.subscription.channel === op.channel) sub.expected++;
          }
        }
        counter++;
      }
      for (const { recipient, expected } of subscribers) {
        assert.deepEqual(
          recipient.received.map(([, seq]) => seq),
          Array.from({ length: expected }, (_, i) => i + 1),
        );
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("presence notifications reach only started subscriptions that asked for them", () => {
  const hub = new Hub();
  const plain = live(hub, S1);
  const joinLeave = new Collector();
  const both = new Collector();
  const pending = new Collector();
  hub.add({ id: "s2", channel: "room1", joinLeave: true }, joinLeave);
  hub.start({ id: "s2", channel: "room1" }, {
    epoch: "ep",
    base: 0,
    replay: [],
    end: 0,
  });
  const s3 = { id: "s3", channel: "room1", joinLeave: true, occupancy: true };
  hub.add(s3, both);
  hub.start(s3, { epoch: "ep", base: 0, replay: [], end: 0 });
  hub.add({ id: "s4", channel: "room1", joinLeave: true }, pending);
  const join = { kind: "join", channel: "room1", user: "u", at: 0 } as const;
  const occupancy = {
    kind: "occupancy",
    channel: "room1",
    connections: 2,
    users: 1,
    peak: 2,
    change: 2,
  } as const;
  const J = '{"method":"join","params":{"channel":"room1","user":"u"}}';
  const O =
    '{"method":"occupancy","params":{"channel":"room1","connections":2,"users":1,"peak":2,"change":2}}';
  assert.equal(hub.notify("room1", join, "joinLeave"), 2);
  assert.equal(hub.notify("room1", occupancy, "occupancy"), 1);
  assert.equal(hub.notify("room2", join, "joinLeave"), 0);
  assert.deepEqual(plain.notes, []);
  assert.deepEqual(joinLeave.notes, [J]);
  assert.deepEqual(both.notes, [J, O]);
  assert.deepEqual(pending.notes, [], "not before its subscribe is answered");
});
