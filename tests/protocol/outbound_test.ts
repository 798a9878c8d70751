/**
 * The slow-consumer policy in the reducer: backlog readings in, timers and
 * 1013 closes out (SPEC §3, Limits and slow consumers); and for lagging
 * subscriptions, drain checks and catch-ups (SPEC §7).
 */

import assert from "node:assert/strict";
import {
  CATCH_UP_BATCH,
  DRAIN_CHECK_MS,
  HARD_LIMIT_FACTOR,
  SLOW_CONSUMER_GRACE_MS,
} from "../../src/protocol/outbound.ts";
import { reduce } from "../../src/protocol/reducer.ts";
import { fresh, LIMITS, NOW, run, subscribed } from "../support/reducer.ts";

const LIMIT = LIMITS.outboundBufferBytes;

function slowClose(reason: string) {
  return [
    { kind: "count", counter: "slowConsumerDisconnects" },
    { kind: "close", code: 1013, reason },
  ];
}

Deno.test("over the limit arms the grace timer; back under stops it", () => {
  const over = reduce(fresh(), { kind: "backlog", bytes: LIMIT + 1 }, NOW);
  assert.equal(over.state.overSince, NOW);
  assert.deepEqual(over.effects, [{
    kind: "timer",
    name: "slowConsumer",
    at: NOW + SLOW_CONSUMER_GRACE_MS,
  }]);
  const under = reduce(over.state, { kind: "backlog", bytes: LIMIT }, NOW + 5);
  assert.equal(under.state.overSince, null);
  assert.deepEqual(under.effects, [{
    kind: "timer",
    name: "slowConsumer",
    at: Number.POSITIVE_INFINITY,
  }]);
  // Under while never over: nothing to do.
  assert.deepEqual(
    reduce(fresh(), { kind: "backlog", bytes: 0 }, NOW).effects,
    [],
  );
});

Deno.test("the grace timer measures; still over after 10 s closes with 1013", () => {
  const over = reduce(fresh(), { kind: "backlog", bytes: LIMIT + 1 }, NOW)
    .state;
  const fired = reduce(over, { kind: "timer", name: "slowConsumer" }, NOW);
  assert.deepEqual(fired.effects, [{ kind: "measureBacklog" }]);
  const early = reduce(
    over,
    { kind: "backlog", bytes: LIMIT + 1 },
    NOW + SLOW_CONSUMER_GRACE_MS - 1,
  );
  assert.deepEqual(early.effects, [{
    kind: "timer",
    name: "slowConsumer",
    at: NOW + SLOW_CONSUMER_GRACE_MS,
  }]);
  const late = reduce(
    over,
    { kind: "backlog", bytes: LIMIT + 1 },
    NOW + SLOW_CONSUMER_GRACE_MS,
  );
  assert.deepEqual(
    late.effects,
    slowClose(`slow consumer: over ${LIMIT} bytes unsent for 10 s`),
  );
});

Deno.test("over four times the limit closes with 1013 at once", () => {
  const { effects } = reduce(fresh(), {
    kind: "backlog",
    bytes: LIMIT * HARD_LIMIT_FACTOR + 1,
  }, NOW);
  assert.deepEqual(
    effects,
    slowClose(`slow consumer: over ${LIMIT * HARD_LIMIT_FACTOR} bytes unsent`),
  );
});

Deno.test("a grace timer after recovery does nothing", () => {
  const { effects } = reduce(
    fresh(),
    { kind: "timer", name: "slowConsumer" },
    NOW,
  );
  assert.deepEqual(effects, []);
});

Deno.test("a lagging subscription has the backlog measured every DRAIN_CHECK_MS, once however often it is reported", () => {
  const lagging = reduce(fresh(), { kind: "lagging" }, NOW);
  assert.equal(lagging.state.lagging, true);
  assert.deepEqual(lagging.effects, [{
    kind: "timer",
    name: "drainCheck",
    at: NOW + DRAIN_CHECK_MS,
  }]);
  assert.deepEqual(
    reduce(lagging.state, { kind: "lagging" }, NOW + 1).effects,
    [],
  );
  assert.deepEqual(
    reduce(lagging.state, { kind: "timer", name: "drainCheck" }, NOW).effects,
    [{ kind: "measureBacklog" }],
  );
  // Not lagging (any more): the check does nothing.
  assert.deepEqual(
    reduce(fresh(), { kind: "timer", name: "drainCheck" }, NOW).effects,
    [],
  );
});

Deno.test("once the backlog is down to half the limit, every subscription is offered a catch-up in capped batches", () => {
  const state = run(subscribed("room1", "room2"), { kind: "lagging" }).state;
  const waiting = reduce(
    state,
    { kind: "backlog", bytes: LIMIT / 2 + 1 },
    NOW,
  );
  assert.equal(waiting.state.lagging, true);
  assert.deepEqual(waiting.effects, [{
    kind: "timer",
    name: "drainCheck",
    at: NOW + DRAIN_CHECK_MS,
  }]);
  const drained = reduce(state, { kind: "backlog", bytes: LIMIT / 2 }, NOW);
  assert.equal(drained.state.lagging, false);
  assert.deepEqual(drained.effects, [{
    kind: "catchUp",
    subscriptions: [...state.subscriptions.values()],
    limit: CATCH_UP_BATCH,
  }]);
});

Deno.test("a lagging connection over 4× the limit is closed, not caught up", () => {
  const state = reduce(fresh(), { kind: "lagging" }, NOW).state;
  const { effects } = reduce(
    state,
    { kind: "backlog", bytes: LIMIT * HARD_LIMIT_FACTOR + 1 },
    NOW,
  );
  assert.deepEqual(
    effects,
    slowClose(`slow consumer: over ${LIMIT * HARD_LIMIT_FACTOR} bytes unsent`),
  );
});
