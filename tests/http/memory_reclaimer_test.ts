/**
 * When memory is reclaimed after a wave of closes (SPEC §12): the schedule
 * driven by counts and times, and the releasers this process has. The
 * effect on a real server's memory is the flood test's.
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

/** The times, from `from` to `to` in 1 s ticks, at which `open` stays put and a reclaim is due. */
function dueTimes(
  schedule: ReclaimSchedule,
  open: number,
  from: number,
  to: number,
): number[] {
  const due: number[] = [];
  for (let now = from; now <= to; now += 1_000) {
    if (schedule.due(open, now)) due.push(now);
  }
  return due;
}

Deno.test("a wave of closes: a reclaim once it has been quiet, then follow-ups after the linger, then nothing", () => {
  const schedule = new ReclaimSchedule(LINGER_MS);
  assert.equal(schedule.due(5_000, 0), false);
  // The wave falls over 3 s: nothing while it falls.
  assert.equal(schedule.due(3_000, 1_000), false);
  assert.equal(schedule.due(1_000, 2_000), false);
  assert.equal(schedule.due(1, 3_000), false);
  const quietAt = 3_000 + QUIET_MS;
  const due = dueTimes(schedule, 1, 4_000, 120_000);
  assert.deepEqual(due, [
    quietAt,
    ...Array.from(
      { length: FOLLOW_UPS },
      (_, step) => quietAt + LINGER_MS + step * FOLLOW_UP_SPACING_MS,
    ),
  ]);
});

Deno.test("fewer closes than RECLAIM_AFTER_CLOSES, or churn that keeps the count level: no reclaim", () => {
  const few = new ReclaimSchedule(LINGER_MS);
  few.due(RECLAIM_AFTER_CLOSES, 0);
  assert.deepEqual(dueTimes(few, 1, 1_000, 120_000), []);

  // Sockets come and go, the count stays near 1,000: memory is reused, not grown.
  const churn = new ReclaimSchedule(LINGER_MS);
  const due: number[] = [];
  for (let now = 0; now <= 120_000; now += 1_000) {
    if (churn.due(1_000 + (now / 1_000) % 3, now)) due.push(now);
  }
  assert.deepEqual(due, []);
});

Deno.test("closes counted since the last reclaim: a trickle after a wave does not reclaim; a second wave does, no sooner than WAVE_GAP_MS after the first", () => {
  const schedule = new ReclaimSchedule(LINGER_MS);
  schedule.due(2_000, 0);
  assert.equal(schedule.due(1_000, 1_000), false);
  const first = 1_000 + QUIET_MS;
  assert.equal(schedule.due(1_000, first), true);
  // 499 more close: below the threshold, counted from 1,000.
  assert.equal(schedule.due(501, 4_000), false);
  assert.equal(schedule.due(501, 4_000 + QUIET_MS), false);
  // One more makes 500 since the reclaim: a wave, but too soon after the first.
  assert.equal(schedule.due(500, 7_000), false);
  const due = dueTimes(schedule, 500, 8_000, 200_000);
  const followUps = Array.from(
    { length: FOLLOW_UPS },
    (_, step) => first + LINGER_MS + step * FOLLOW_UP_SPACING_MS,
  );
  assert.deepEqual(due, [
    ...followUps,
    first + WAVE_GAP_MS,
    ...followUps.map((at) => at + WAVE_GAP_MS),
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
