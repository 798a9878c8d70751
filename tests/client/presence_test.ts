/**
 * The SDK's presence against the real server: `onJoin`, `onLeave` and
 * `onOccupancy`, `sub.presence()` and `sub.presenceStats()`.
 */

import assert from "node:assert/strict";
import {
  BroadcasterClient,
  type JoinEvent,
  type LeaveEvent,
  type OccupancyEvent,
} from "../../src/client/mod.ts";
import { Observed } from "../support/observed.ts";
import { serve, token } from "../support/server.ts";

Deno.test("onJoin, onLeave and onOccupancy, presence() and presenceStats()", async () => {
  // The defaults: alice's leave comes 5 s after she goes.
  await using fixture = await serve();
  const joins = new Observed<JoinEvent>();
  const leaves = new Observed<LeaveEvent>();
  const counts = new Observed<OccupancyEvent>();
  const bob = new BroadcasterClient({
    url: fixture.websocketUrl,
    token: () => token({ sub: "bob" }),
  });
  const sub = bob.subscribe("room1", () => {}, {
    onJoin: joins.push,
    onLeave: leaves.push,
    onOccupancy: counts.push,
  });
  await sub.ready;
  const alice = new BroadcasterClient({
    url: fixture.websocketUrl,
    token: () => token({ sub: "alice", info: { name: "Alice" } }),
  });
  await alice.subscribe("room1", () => {}).ready;
  await joins.until((values) => values.length === 1, "alice's join");
  assert.deepEqual(joins.values, [
    { channel: "room1", user: "alice", info: { name: "Alice" } },
  ]);
  await counts.until(
    (values) => values.at(-1)?.connections === 2,
    "two connections",
  );
  assert.deepEqual(await sub.presenceStats(), { connections: 2, users: 2 });
  const presence = await sub.presence();
  assert.equal(presence.truncated, false);
  assert.deepEqual(
    presence.members.map(({ user, info }) => ({ user, info })).sort((a, b) =>
      a.user.localeCompare(b.user)
    ),
    [
      { user: "alice", info: { name: "Alice" } },
      { user: "bob", info: undefined },
    ],
  );
  await alice.close();
  await leaves.until(
    (values) => values.length === 1,
    "alice's leave",
    8_000,
  );
  assert.deepEqual(leaves.values, [{ channel: "room1", user: "alice" }]);
  await counts.until(
    (values) => values.at(-1)?.connections === 1,
    "one connection",
  );
  assert.equal(counts.values.at(-1)?.change, -1);
  await bob.close();
});
