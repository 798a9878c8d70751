/**
 * The slow-consumer policy in the reducer: backlog readings in, timers and
 * 1013 closes out (SPEC §3, Limits and slow consumers).
 */

import assert from "node:assert/strict";
import {
  HARD_LIMIT_FACTOR,
  SLOW_CONSUMER_GRACE_MS,
} from "../../src/protocol/outbound.ts";
import { reduce } from "../../src/protocol/reducer.ts";
import { fresh, LIMITS, NOW } from "../support/reducer.ts";

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
