/**
 * Counts REST requests being handled, so shutdown can wait for them: Deno's
 * own `shutdown()` cuts the body of a request still uploading.
 *
 * @module
 */

/**
 * A counter of requests in progress that can be awaited to reach zero.
 *
 * @example
 * ```ts
 * const requests = new InFlight();
 * requests.enter();
 * requests.leave();
 * await requests.idle();
 * ```
 */
export class InFlight {
  #count = 0;
  #waiters: (() => void)[] = [];

  /** How many requests are in progress. */
  get count(): number {
    return this.#count;
  }

  /** A request started. */
  enter(): void {
    this.#count++;
  }

  /** A request finished. */
  leave(): void {
    this.#count--;
    if (this.#count === 0) {
      for (const wake of this.#waiters.splice(0)) wake();
    }
  }

  /** Resolves once no request is in progress. */
  idle(): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
