/** The token bucket and the abuse line. */

import assert from "node:assert/strict";
import {
  admit,
  FULL_BUCKET,
  type RateState,
} from "../../src/protocol/rate_limit.ts";

function spend(state: RateState, count: number, rate: number, now: number) {
  const admissions: string[] = [];
  for (let i = 0; i < count; i++) {
    const step = admit(state, rate, now);
    state = step.state;
    admissions.push(step.admission);
  }
  return { state, admissions };
}

Deno.test("a full bucket admits a burst of twice the rate", () => {
  const { admissions } = spend(FULL_BUCKET, 21, 10, 1_000);
  assert.deepEqual(admissions.slice(0, 20), Array(20).fill("admit"));
  assert.equal(admissions[20], "refuse");
});

Deno.test("the bucket refills at the rate, up to its capacity", () => {
  const empty = spend(FULL_BUCKET, 20, 10, 1_000).state;
  assert.equal(admit(empty, 10, 1_050).admission, "refuse");
  assert.equal(admit(empty, 10, 1_100).admission, "admit");
  const refilled = spend(empty, 20, 10, 100_000);
  assert.deepEqual(refilled.admissions, Array(20).fill("admit"));
});

Deno.test("abuse: more than `rate` refusals within 10 s; the count restarts after", () => {
  const empty = spend(FULL_BUCKET, 20, 10, 1_000).state;
  const refusals = spend(empty, 11, 10, 1_000);
  assert.deepEqual(refusals.admissions, [...Array(10).fill("refuse"), "abuse"]);
  const nextWindow = spend(spend(empty, 10, 10, 1_000).state, 1, 10, 11_001);
  assert.deepEqual(nextWindow.admissions, ["admit"]);
});
