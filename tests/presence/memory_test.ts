/**
 * The memory presence store: join and leave per user (leave after the
 * delay, a return within it silent), counts at once, the peak, and the
 * member cap.
 */

import assert from "node:assert/strict";
import { MemoryPresence } from "../../src/presence/memory.ts";
import type { PresenceEvent } from "../../src/presence/presence.ts";

const ALICE_1 = { user: "alice", connectionId: "c1", info: '{"n":1}' };
const ALICE_2 = { user: "alice", connectionId: "c2" };
const BOB = { user: "bob", connectionId: "c3" };

/** A store with a leave delay of `delayMs`, and what it reported. */
function store(delayMs: number) {
  const events: PresenceEvent[] = [];
  const presence = new MemoryPresence({
    listener: (event) => events.push(event),
    leaveDelayMs: delayMs,
  });
  const said = (kind: PresenceEvent["kind"]) =>
    events.filter((event) => event.kind === kind);
  return { presence, events, said };
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("join once per user, with the info of the connection that joined; counts at every change", async () => {
  const { presence, said } = store(50);
  await presence.add("room1", ALICE_1);
  await presence.add("room1", ALICE_2);
  await presence.add("room1", BOB);
  assert.deepEqual(said("join"), [
    { kind: "join", channel: "room1", user: "alice", info: '{"n":1}' },
    { kind: "join", channel: "room1", user: "bob" },
  ]);
  assert.deepEqual(
    said("counts").map((event) =>
      event.kind === "counts" && [event.connections, event.users, event.peak]
    ),
    [
      [1, 1, 1],
      [2, 1, 2],
      [3, 2, 3],
    ],
  );
  assert.deepEqual(await presence.counts("room1"), {
    connections: 3,
    users: 2,
  });
  await presence.close();
});

Deno.test("leave only when the user's last connection has been gone for the delay; counts drop at once", async () => {
  const { presence, said } = store(50);
  await presence.add("room1", ALICE_1);
  await presence.add("room1", ALICE_2);
  await presence.remove("room1", ALICE_1);
  assert.deepEqual(await presence.counts("room1"), {
    connections: 1,
    users: 1,
  });
  await presence.remove("room1", ALICE_2);
  assert.deepEqual(await presence.counts("room1"), {
    connections: 0,
    users: 0,
  });
  assert.deepEqual(said("leave"), [], "not before the delay");
  await wait(80);
  assert.deepEqual(said("leave"), [{
    kind: "leave",
    channel: "room1",
    user: "alice",
  }]);
  await presence.close();
});

Deno.test("a return within the delay is silent: no leave, no second join", async () => {
  const { presence, said } = store(50);
  await presence.add("room1", ALICE_1);
  await presence.remove("room1", ALICE_1);
  await presence.add("room1", { ...ALICE_1, connectionId: "c9" });
  await wait(80);
  assert.equal(said("join").length, 1);
  assert.deepEqual(said("leave"), []);
  await presence.close();
});

Deno.test("the peak is the most connections since the channel became occupied", async () => {
  const { presence, said } = store(0);
  await presence.add("room1", ALICE_1);
  await presence.add("room1", BOB);
  await presence.remove("room1", BOB);
  await presence.remove("room1", ALICE_1);
  await presence.add("room1", BOB);
  const peaks = said("counts").map((event) =>
    event.kind === "counts" && event.peak
  );
  assert.deepEqual(peaks, [1, 2, 2, 0, 1]);
  await presence.close();
});

Deno.test("snapshot: members up to the cap, truncated past it; removing one not present is harmless", async () => {
  const { presence } = store(0);
  await presence.add("room1", ALICE_1);
  await presence.add("room1", ALICE_2);
  await presence.add("room1", BOB);
  await presence.remove("room2", BOB);
  await presence.remove("room1", { user: "carol", connectionId: "c7" });
  const capped = await presence.snapshot("room1", 2);
  assert.equal(capped.members.length, 2);
  assert.equal(capped.truncated, true);
  assert.equal(capped.connections, 3);
  const all = await presence.snapshot("room1", 10);
  assert.deepEqual(all.members, [ALICE_1, ALICE_2, BOB]);
  assert.equal(all.truncated, false);
  assert.deepEqual(await presence.snapshot("nobody", 10), {
    connections: 0,
    users: 0,
    members: [],
    truncated: false,
  });
  assert.equal(presence.localMembers, 3);
  await presence.close();
});
