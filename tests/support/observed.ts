/**
 * Test fixture: values a callback reports (messages, states, errors, close
 * codes), collected and awaited, so tests wait on events, never on sleeps.
 *
 * @module
 */

/** How long a test waits for an event before it fails. */
const EVENT_TIMEOUT_MS = 10_000;

interface Waiter<T> {
  readonly check: (values: readonly T[]) => boolean;
  readonly resolve: () => void;
}

/**
 * Values in the order they were reported.
 *
 * @example
 * ```ts
 * import { Observed } from "./observed.ts";
 *
 * const states = new Observed<string>();
 * setTimeout(() => states.push("connected"), 10);
 * await states.until((values) => values.includes("connected"), "connected");
 * ```
 */
export class Observed<T> {
  readonly values: T[] = [];
  readonly #waiters = new Set<Waiter<T>>();

  /** Reports a value; wakes every waiter whose condition now holds. */
  push = (value: T): void => {
    this.values.push(value);
    for (const waiter of this.#waiters) {
      if (waiter.check(this.values)) {
        this.#waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };

  /** Resolves once `check` holds of the values; fails after 10 s naming `what`. */
  until(
    check: (values: readonly T[]) => boolean,
    what: string,
    timeoutMs = EVENT_TIMEOUT_MS,
  ): Promise<void> {
    if (check(this.values)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const waiter: Waiter<T> = {
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.#waiters.add(waiter);
    });
  }
}

/**
 * `promise`, or a failure naming `what` if it has not settled within
 * `timeoutMs`: a test that waits on an event must not hang for ever.
 *
 * @example
 * ```ts
 * import { settlesWithin } from "./observed.ts";
 *
 * await settlesWithin(Promise.resolve(1), "a resolved promise");
 * ```
 */
export async function settlesWithin<T>(
  promise: Promise<T>,
  what: string,
  timeoutMs = EVENT_TIMEOUT_MS,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${what}`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Options of {@linkcode pollUntil}. */
export interface PollOptions {
  /** How long to keep asking (5 s). */
  readonly timeoutMs?: number;
  /** How long between two questions (1 ms). */
  readonly intervalMs?: number;
}

/**
 * Asks `condition` until it holds, for what no event tells (a counter on the
 * server, Redis's own state); fails naming `what` after the timeout.
 *
 * @example
 * ```ts
 * import { pollUntil } from "./observed.ts";
 *
 * let n = 0;
 * await pollUntil(() => ++n > 3, "three questions");
 * ```
 */
export async function pollUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  options: PollOptions = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 5_000);
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) =>
      setTimeout(resolve, options.intervalMs ?? 1)
    );
  }
}
