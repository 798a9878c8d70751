/**
 * Giving memory back to the system after a wave of closed connections
 * (SPEC §12: after a flood, resident memory returns near its level before).
 *
 * Three things keep a closed socket's memory resident, measured with 5,000
 * sockets (README, "Running on the open internet"):
 *
 * - Deno's WebSocket holds its request for half `IDLE_TIMEOUT_SECONDS`
 *   after a peer vanishes (its idle timer is not cleared), so that garbage
 *   appears late, when an idle server no longer collects: a full collection
 *   then frees it (`gc`, with `--v8-flags=--expose-gc`).
 * - The sockets' native buffers go back to glibc's malloc, which keeps the
 *   freed pages between live ones: `malloc_trim(0)` returns them (through
 *   FFI, with `--allow-ffi`; glibc Linux only).
 * - Either is skipped where it is not available (Deno Deploy, musl, macOS,
 *   no permission): memory is then reused by the next wave, not returned.
 *
 * @module
 */

import { log } from "../log.ts";

const logger = log("memory");

/** What can return memory here: each may be missing. */
export interface MemoryReleasers {
  /** A full garbage collection (V8's `gc`, exposed by `--expose-gc`). */
  readonly collectGarbage: (() => void) | null;
  /** glibc's `malloc_trim(0)`: free pages back to the system. */
  readonly trimMalloc: (() => void) | null;
}

/** The releasers this process has: `gc` if exposed, `malloc_trim` if FFI is granted on glibc Linux. */
export function availableReleasers(): MemoryReleasers {
  const exposed = (globalThis as { gc?: unknown }).gc;
  return {
    collectGarbage: typeof exposed === "function"
      ? () => (exposed as () => void)()
      : null,
    trimMalloc: mallocTrim === undefined
      ? (mallocTrim = glibcMallocTrim())
      : mallocTrim,
  };
}

/** glibc's `malloc_trim`, once looked up (libc is opened once per process, not per server). */
let mallocTrim: (() => void) | null | undefined;

function glibcMallocTrim(): (() => void) | null {
  if (Deno.build.os !== "linux" || typeof Deno.dlopen !== "function") {
    return null;
  }
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
      return null;
    }
    const libc = Deno.dlopen("libc.so.6", {
      malloc_trim: { parameters: ["usize"], result: "i32" },
    });
    return () => void libc.symbols.malloc_trim(0n);
  } catch {
    // Not glibc (musl has no libc.so.6), or FFI refused.
    return null;
  }
}

/** Connections that must have closed since the last reclaim before another is worth it. */
export const RECLAIM_AFTER_CLOSES = 500;
/** How long the count must stop falling first: the wave is over. */
export const QUIET_MS = 2_000;
/**
 * The least time between two waves' reclaims: a full collection stops the
 * event loop (tens of milliseconds on a large heap), and clients that open
 * and drop sockets on purpose must not be able to cause one every few
 * seconds.
 */
export const WAVE_GAP_MS = 60_000;
/**
 * The spacing of the reclaims after the linger. V8 gives its heap back in
 * steps: each full collection shrinks it further, and the pages it freed
 * are unmapped 8 s later (`--memory-pool-timeout`). Three reclaims 5 s
 * apart brought 5,000 closed sockets back within 10% of the resident
 * memory before them; one left 25%.
 */
export const FOLLOW_UP_SPACING_MS = 5_000;
/** Reclaims after the linger. */
export const FOLLOW_UPS = 3;

/**
 * When to reclaim, from the count of closed connections sampled by the
 * server's ticker: once at least {@linkcode RECLAIM_AFTER_CLOSES} have
 * closed since the last reclaim and none for {@linkcode QUIET_MS} (the wave
 * is over; and the last wave's reclaim was {@linkcode WAVE_GAP_MS} ago);
 * then, once Deno has let go of those sockets (`lingerMs` later),
 * {@linkcode FOLLOW_UPS} times more, {@linkcode FOLLOW_UP_SPACING_MS} apart.
 * Pure: time is passed in.
 *
 * @example
 * ```ts
 * import { ReclaimSchedule } from "./memory_reclaimer.ts";
 *
 * const schedule = new ReclaimSchedule(30_000);
 * schedule.due(0, 0); // false: nothing closed
 * schedule.due(1_000, 1_000); // false: the wave is still closing
 * schedule.due(1_000, 3_000); // true: 1,000 closed, none for 2 s
 * ```
 */
export class ReclaimSchedule {
  readonly #lingerMs: number;
  #closed = 0;
  #closedAtReclaim = 0;
  #lastCloseAt = 0;
  #lastWaveAt = Number.NEGATIVE_INFINITY;
  /** When to reclaim again after a wave, soonest first. */
  #followUps: number[] = [];

  /** `lingerMs`: how long after a wave Deno still holds its closed sockets. */
  constructor(lingerMs: number) {
    this.#lingerMs = lingerMs;
  }

  /** Samples the connections `closed` so far at `now`; whether to reclaim now. */
  due(closed: number, now: number): boolean {
    if (closed !== this.#closed) {
      this.#closed = closed;
      this.#lastCloseAt = now;
    }
    if (
      closed - this.#closedAtReclaim >= RECLAIM_AFTER_CLOSES &&
      now - this.#lastCloseAt >= QUIET_MS &&
      now - this.#lastWaveAt >= WAVE_GAP_MS
    ) {
      this.#closedAtReclaim = closed;
      this.#lastWaveAt = now;
      this.#followUps = Array.from(
        { length: FOLLOW_UPS },
        (_, step) => now + this.#lingerMs + step * FOLLOW_UP_SPACING_MS,
      );
      return true;
    }
    const next = this.#followUps[0];
    if (next !== undefined && now >= next) {
      this.#followUps.shift();
      return true;
    }
    return false;
  }
}

/**
 * Returns memory after waves of closed connections: fed the count of closed
 * connections by the server's ticker, it reclaims when its
 * {@linkcode ReclaimSchedule} says so, with what this process has.
 *
 * @example
 * ```ts
 * import { MemoryReclaimer } from "./memory_reclaimer.ts";
 *
 * const reclaimer = new MemoryReclaimer(31_000);
 * reclaimer.observe(0, Date.now());
 * ```
 */
export class MemoryReclaimer {
  readonly #schedule: ReclaimSchedule;
  readonly #releasers: MemoryReleasers;

  /** `lingerMs`: how long Deno holds closed sockets; `releasers`: what can return memory. */
  constructor(
    lingerMs: number,
    releasers: MemoryReleasers = availableReleasers(),
  ) {
    this.#schedule = new ReclaimSchedule(lingerMs);
    this.#releasers = releasers;
    logger.debug(
      "after waves of closes, memory goes back through: gc {gc}, malloc_trim {trim}",
      {
        gc: releasers.collectGarbage === null
          ? "no (run with --v8-flags=--expose-gc)"
          : "yes",
        trim: releasers.trimMalloc === null
          ? "no (needs glibc Linux and --allow-ffi)"
          : "yes",
      },
    );
  }

  /** The connections `closed` so far, at `now`: reclaims if a wave of closes is due. */
  observe(closed: number, now: number): void {
    if (!this.#schedule.due(closed, now)) return;
    if (!logger.isEnabledFor("debug")) {
      this.#release();
      return;
    }
    const before = Deno.memoryUsage().rss;
    const started = performance.now();
    this.#release();
    logger.debug(
      "memory reclaimed after a wave of closes in {durationMs} ms: resident {beforeMiB} MiB before, {afterMiB} MiB after (V8 returns more over the next seconds), {closed} connections closed since the start",
      {
        durationMs: Math.round(performance.now() - started),
        beforeMiB: Math.round(before / 1048576),
        afterMiB: Math.round(Deno.memoryUsage().rss / 1048576),
        closed,
      },
    );
  }

  #release(): void {
    this.#releasers.collectGarbage?.();
    this.#releasers.trimMalloc?.();
  }
}
