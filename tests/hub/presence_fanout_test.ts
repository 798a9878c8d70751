/**
 * The presence fan-out: join and leave frames to the observers that asked,
 * occupancy batched to at most one per interval per channel, with `peak`
 * and `change`.
 */

import assert from "node:assert/strict";
import { Hub, type Recipient } from "../../src/hub/hub.ts";
import { PresenceFanout } from "../../src/hub/presence_fanout.ts";
import { Observed } from "../support/observed.ts";

/** A started subscription to room1 with the given wishes; its notifications. */
function observer(
  hub: Hub,
  id: string,
  wishes: { joinLeave?: boolean; occupancy?: boolean },
) {
  const notes = new Observed<Record<string, unknown>>();
  const recipient: Recipient = {
    deliver: () => true,
    lagging: () => {},
    notify: (frame) => notes.push(JSON.parse(frame)),
    framing: undefined,
  };
  const subscription = { id, channel: "room1", ...wishes };
  hub.add(subscription, recipient);
  hub.start(subscription, { epoch: "e", base: 0, replay: [], end: 0 });
  return notes;
}

function counts(connections: number, users = connections, peak = connections) {
  return {
    kind: "counts" as const,
    channel: "room1",
    connections,
    users,
    peak,
  };
}

Deno.test("join and leave go to joinLeave observers only, counted", () => {
  const hub = new Hub();
  const counted: string[] = [];
  const fanout = new PresenceFanout(hub, {
    intervalMs: 100,
    counters: {
      notified: (kind, amount) => counted.push(`${kind}:${amount}`),
    },
    clock: Date.now,
  });
  const watcher = observer(hub, "s1", { joinLeave: true });
  const other = observer(hub, "s2", {});
  fanout.onEvent({
    kind: "join",
    channel: "room1",
    user: "alice",
    info: '{"n":1}',
  });
  fanout.onEvent({ kind: "leave", channel: "room1", user: "alice" });
  assert.deepEqual(watcher.values, [
    {
      method: "join",
      params: { channel: "room1", user: "alice", info: { n: 1 } },
    },
    { method: "leave", params: { channel: "room1", user: "alice" } },
  ]);
  assert.deepEqual(other.values, []);
  assert.deepEqual(counted, ["join:1", "leave:1"]);
  fanout.close();
});

Deno.test("occupancy: batched per interval, the first change its connections, then the difference", async () => {
  const hub = new Hub();
  const fanout = new PresenceFanout(hub, {
    intervalMs: 50,
    counters: { notified: () => {} },
    clock: Date.now,
  });
  const watcher = observer(hub, "s1", { occupancy: true });
  fanout.onEvent(counts(1));
  fanout.onEvent(counts(2));
  fanout.onEvent(counts(3, 2, 3));
  await watcher.until((values) => values.length === 1, "the first batch");
  fanout.onEvent(counts(2, 2, 3));
  await watcher.until((values) => values.length === 2, "the second batch");
  assert.deepEqual(watcher.values.map((value) => value.params), [
    { channel: "room1", connections: 3, users: 2, peak: 3, change: 3 },
    { channel: "room1", connections: 2, users: 2, peak: 3, change: -1 },
  ]);
  // Counts that moved and came back: nothing changed, nothing sent.
  fanout.onEvent(counts(3, 2, 3));
  fanout.onEvent(counts(2, 2, 3));
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.equal(watcher.values.length, 2);
  fanout.close();
});

Deno.test("occupancy: 1000 viewers joining within a second make about ten updates per observer, not 1000", async () => {
  const hub = new Hub();
  const fanout = new PresenceFanout(hub, {
    intervalMs: 100,
    counters: { notified: () => {} },
    clock: Date.now,
  });
  const watcher = observer(hub, "s1", { occupancy: true });
  const started = performance.now();
  for (let i = 1; i <= 1000; i++) {
    fanout.onEvent(counts(i));
    if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 45));
  }
  await watcher.until(
    (values) =>
      values.at(-1)?.params !== undefined &&
      (values.at(-1)?.params as { connections: number }).connections === 1000,
    "the last count",
  );
  const seconds = (performance.now() - started) / 1000;
  const updates = watcher.values.length;
  assert.ok(
    updates <= Math.ceil(seconds * 10) + 1,
    `${updates} updates in ${seconds.toFixed(2)} s`,
  );
  assert.ok(updates >= 5, `${updates} updates`);
  fanout.close();
});
