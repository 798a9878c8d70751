/** The slow-consumer policy, against a buffer the test controls. */

import assert from "node:assert/strict";
import { SlowConsumerPolicy } from "../../src/hub/slow_consumer.ts";

/** A policy with a 1000-byte limit over a buffer the test sets. */
function policy(graceMs = 10_000) {
  const state = { unsent: 0, reads: 0, reasons: [] as string[] };
  let resolveSlow: (reason: string) => void = () => {};
  const slow = new Promise<string>((resolve) => resolveSlow = resolve);
  const subject = new SlowConsumerPolicy({
    limit: 1000,
    clock: Date.now,
    graceMs,
  }, {
    get bufferedAmount() {
      state.reads++;
      return state.unsent;
    },
    closeSlow(reason) {
      state.reasons.push(reason);
      resolveSlow(reason);
    },
  });
  return { state, subject, slow };
}

/** Sends enough that the policy's bound passes the limit, so it reads the buffer next time. */
function fill(subject: SlowConsumerPolicy): void {
  assert.equal(subject.admits(400), true);
}

Deno.test("under the limit every broadcast goes out, without reading bufferedAmount each time", () => {
  const { state, subject } = policy();
  // 3 bytes per unit: after four sends of 111 units the bound (1332) passes the limit.
  for (let i = 0; i < 4; i++) assert.equal(subject.admits(111), true);
  assert.equal(state.reads, 0);
  // Only then is the real buffer read: drained, so the bound starts again.
  assert.equal(subject.admits(111), true);
  assert.equal(state.reads, 1);
  assert.equal(subject.admits(111), true);
  assert.equal(state.reads, 1);
  assert.equal(subject.dropped, 0);
  subject.stop();
});

Deno.test("over the limit broadcasts are dropped and counted, until the buffer drains", () => {
  const { state, subject } = policy();
  fill(subject);
  state.unsent = 1001;
  assert.equal(subject.admits(1), false);
  assert.equal(subject.admits(1), false);
  assert.equal(subject.dropped, 2);
  state.unsent = 10;
  assert.equal(subject.admits(1), true);
  assert.deepEqual(state.reasons, []);
  subject.stop();
});

Deno.test("over four times the limit closes at once, broadcast or reply", () => {
  const first = policy();
  fill(first.subject);
  first.state.unsent = 4001;
  assert.equal(first.subject.admits(1), false);
  assert.equal(first.state.reasons.length, 1);

  const second = policy();
  second.state.unsent = 4001;
  second.subject.afterReply(1000);
  assert.equal(
    second.state.reasons.length,
    0,
    "1000 units may be 3000 bytes: under 4×",
  );
  second.subject.afterReply(1000);
  assert.equal(second.state.reasons.length, 1);
  second.subject.afterReply(1000);
  assert.equal(second.state.reasons.length, 1, "closes once");
});

Deno.test("a reply read back as drained does not close", () => {
  const { state, subject } = policy();
  state.unsent = 0;
  subject.afterReply(2000);
  assert.deepEqual(state.reasons, []);
});

Deno.test("still over the limit after the grace period: closed", async () => {
  const { state, subject, slow } = policy(30);
  fill(subject);
  state.unsent = 2000;
  subject.admits(1);
  assert.match(await slow, /for 0.03 s/);
});

Deno.test("drained within the grace period: kept", async () => {
  const { state, subject } = policy(30);
  fill(subject);
  state.unsent = 2000;
  subject.admits(1);
  state.unsent = 0;
  // A second policy with a longer grace shows when the first one's check has run.
  const witness = policy(60);
  fill(witness.subject);
  witness.state.unsent = 2000;
  witness.subject.admits(1);
  await witness.slow;
  assert.deepEqual(state.reasons, []);
  subject.stop();
});
