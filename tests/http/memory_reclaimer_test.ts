/**
 * When memory is reclaimed after a wave of closes (SPEC §12): the schedule
 * driven by the count of closed connections and the time, and the
 * releasers this process has. The effect on a real server's memory is the
 * flood test's.
 */

import assert from "node:assert/strict";
import {
  availableReleasers,
  FOLLOW_UP_SPACING_MS,
  FOLLOW_UPS,
  QUIET_MS,
  RECLAIM_AFTER_CLOSES,
  ReclaimSchedule,
  WAVE_GAP_MS,
} from "../../src/http/memory_reclaimer.ts";

const LINGER_MS = 31_000;

/** The times, from `from` to `to` in 1 s ticks, at which `closed` stays put and a reclaim is due. */
function dueTimes(
  schedule: ReclaimSchedule,
  closed: number,
  from: number,
  to: number,
): number[] {
  const due: number[] = [];
  for (let now = from; now <= to; now += 1_000) {
    if (schedule.due(closed, now)) due.push(now);
  }
  return due;
}

/** The follow-ups of a wave reclaimed at `at`. */
function followUps(at: number): number[] {
  return Array.from(
    { length: FOLLOW_UPS },
    (_, step) => at + LINGER_MS + step * FOLLOW_UP_SPACING_MS,
  );
}

Deno.test("a wave of closes: a reclaim once none has closed for QUIET_MS, then follow-ups after the linger, then nothing", () => {
  const schedule = new ReclaimSchedule(LINGER_MS);
  assert.equal(schedule.due(0, 0), false);
  // 5,000 close over 3 s: nothing while they close.
  assert.equal(schedule.due(2_000, 1_000), false);
  assert.equal(schedule.due(4_000, 2_000), false);
  assert.equal(schedule.due(5_000, 3_000), false);
  const quietAt = 3_000 + QUIET_MS;
  assert.deepEqual(dueTimes(schedule, 5_000, 4_000, 120_000), [
    quietAt,
    ...followUps(quietAt),
  ]);
});

Deno.test("a wave that opens and closes between two ticks is seen: it is the closes that count", () => {
  const schedule = new ReclaimSchedule(LINGER_MS);
  assert.equal(schedule.due(0, 0), false);
  assert.equal(schedule.due(600, 1_000), false);
  assert.deepEqual(dueTimes(schedule, 600, 2_000, 4_000), [1_000 + QUIET_MS]);
});

Deno.test("fewer closes than RECLAIM_AFTER_CLOSES: no reclaim; steady churn: none while it goes on, one once it stops", () => {
  const few = new ReclaimSchedule(LINGER_MS);
  few.due(RECLAIM_AFTER_CLOSES - 1, 0);
  assert.deepEqual(dueTimes(few, RECLAIM_AFTER_CLOSES - 1, 1_000, 120_000), []);

  // 200 sockets a second come and go for a minute: memory is reused, not grown.
  const churn = new ReclaimSchedule(LINGER_MS);
  const due: number[] = [];
  for (let now = 0; now <= 60_000; now += 1_000) {
    if (churn.due(now / 5, now)) due.push(now);
  }
  assert.deepEqual(due, []);
  assert.deepEqual(
    dueTimes(churn, 12_000, 61_000, 64_000),
    [60_000 + QUIET_MS],
  );
});

Deno.test("closes counted since the last reclaim: a trickle after a wave does not reclaim; a second wave does, no sooner than WAVE_GAP_MS after the first", () => {
  const schedule = new ReclaimSchedule(LINGER_MS);
  schedule.due(0, 0);
  assert.equal(schedule.due(1_000, 1_000), false);
  const first = 1_000 + QUIET_MS;
  assert.equal(schedule.due(1_000, first), true);
  // 499 more close: below the threshold, counted from 1,000.
  assert.equal(schedule.due(1_499, 4_000), false);
  assert.equal(schedule.due(1_499, 4_000 + QUIET_MS), false);
  // One more makes 500 since the reclaim: a wave, but too soon after the first.
  assert.equal(schedule.due(1_500, 7_000), false);
  assert.deepEqual(dueTimes(schedule, 1_500, 8_000, 200_000), [
    ...followUps(first),
    first + WAVE_GAP_MS,
    ...followUps(first + WAVE_GAP_MS),
  ]);
});

Deno.test("the releasers of this process: malloc_trim on glibc Linux with FFI granted; gc only when exposed", () => {
  const releasers = availableReleasers();
  const exposed = typeof (globalThis as { gc?: unknown }).gc === "function";
  assert.equal(releasers.collectGarbage !== null, exposed);
  if (Deno.build.os === "linux" && Deno.build.env === "gnu") {
    // Tests run with -A on glibc (Debian): the trim is there and runs.
    assert.notEqual(releasers.trimMalloc, null);
    releasers.trimMalloc?.();
  }
});
