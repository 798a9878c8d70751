/** The slow-consumer policy, against a buffer the test controls. */

import assert from "node:assert/strict";
import { SlowConsumerPolicy } from "../../src/hub/slow_consumer.ts";

function policy(graceMs = 10_000) {
  const state = { unsent: 0, reasons: [] as string[] };
  let resolveSlow: (reason: string) => void = () => {};
  const slow = new Promise<string>((resolve) => resolveSlow = resolve);
  const subject = new SlowConsumerPolicy({
    limit: 1000,
    clock: Date.now,
    buffered: () => state.unsent,
    onSlow: (reason) => {
      state.reasons.push(reason);
      resolveSlow(reason);
    },
    graceMs,
  });
  return { state, subject, slow };
}

Deno.test("under the limit every broadcast goes out", () => {
  const { state, subject } = policy();
  state.unsent = 1000;
  assert.equal(subject.admits(), true);
  assert.equal(subject.dropped, 0);
  subject.stop();
});

Deno.test("over the limit broadcasts are dropped and counted", () => {
  const { state, subject } = policy();
  state.unsent = 1001;
  assert.equal(subject.admits(), false);
  assert.equal(subject.admits(), false);
  assert.equal(subject.dropped, 2);
  state.unsent = 10;
  assert.equal(subject.admits(), true);
  assert.deepEqual(state.reasons, []);
  subject.stop();
});

Deno.test("over four times the limit closes at once, broadcast or reply", () => {
  const first = policy();
  first.state.unsent = 4001;
  assert.equal(first.subject.admits(), false);
  assert.equal(first.state.reasons.length, 1);
  const second = policy();
  second.state.unsent = 4001;
  second.subject.afterReply();
  assert.equal(second.state.reasons.length, 1);
  second.subject.afterReply();
  assert.equal(second.state.reasons.length, 1, "closes once");
});

Deno.test("still over the limit after the grace period: closed", async () => {
  const { state, subject, slow } = policy(30);
  state.unsent = 2000;
  subject.admits();
  assert.match(await slow, /for 0.03 s/);
});

Deno.test("drained within the grace period: kept", async () => {
  const { state, subject } = policy(30);
  state.unsent = 2000;
  subject.admits();
  state.unsent = 0;
  // A second policy with the same grace shows when the first one's check has run.
  const witness = policy(60);
  witness.state.unsent = 2000;
  witness.subject.admits();
  await witness.slow;
  assert.deepEqual(state.reasons, []);
  subject.stop();
});
