/**
 * The slow-consumer policy of one connection, read off
 * `socket.bufferedAmount`: Deno has no drain event and no cap, so a client
 * that stops reading would otherwise make the server buffer without bound.
 *
 * Over the limit, broadcasts are dropped (the hub has counted their `seq`, so
 * the gap is visible); still over after a grace period, or over four times
 * the limit at any moment, the connection is closed (1013).
 *
 * @module
 */

/** How long a connection may stay over the limit before it is closed. */
export const SLOW_CONSUMER_GRACE_MS = 10_000;

/** How far over the limit a connection is closed at once. */
export const HARD_LIMIT_FACTOR = 4;

/** Options of {@linkcode SlowConsumerPolicy}. */
export interface SlowConsumerOptions {
  /** Unsent bytes past which broadcasts are dropped (`OUTBOUND_BUFFER_BYTES`). */
  readonly limit: number;
  /** Epoch milliseconds. */
  readonly clock: () => number;
  /** The socket's unsent bytes right now. */
  readonly buffered: () => number;
  /** Called when the connection must be closed, with the reason. */
  readonly onSlow: (reason: string) => void;
  /** Defaults to {@linkcode SLOW_CONSUMER_GRACE_MS}. */
  readonly graceMs?: number;
}

/**
 * Decides, per broadcast, whether a connection still gets it.
 *
 * @example
 * ```ts
 * const policy = new SlowConsumerPolicy({
 *   limit: 1 << 20, clock: Date.now, buffered: () => socket.bufferedAmount,
 *   onSlow: (reason) => socket.close(1013, reason),
 * });
 * if (policy.admits()) socket.send(frame);
 * ```
 */
export class SlowConsumerPolicy {
  readonly #options: SlowConsumerOptions;
  readonly #graceMs: number;
  #overSince: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #dropped = 0;
  #closing = false;

  constructor(options: SlowConsumerOptions) {
    this.#options = options;
    this.#graceMs = options.graceMs ?? SLOW_CONSUMER_GRACE_MS;
  }

  /** Broadcasts dropped so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** True when a broadcast may be sent now; false means it is dropped. */
  admits(): boolean {
    const { limit, buffered } = this.#options;
    const unsent = buffered();
    if (unsent <= limit) {
      this.#overSince = undefined;
      return true;
    }
    this.#dropped++;
    if (unsent > limit * HARD_LIMIT_FACTOR) {
      this.#slow(
        `slow consumer: over ${limit * HARD_LIMIT_FACTOR} bytes unsent`,
      );
    } else if (this.#overSince === undefined) {
      this.#overSince = this.#options.clock();
      this.#schedule(this.#graceMs);
    }
    return false;
  }

  /** Replies are never dropped, but a client that reads none is closed all the same. */
  afterReply(): void {
    const { limit, buffered } = this.#options;
    if (buffered() > limit * HARD_LIMIT_FACTOR) {
      this.#slow(
        `slow consumer: over ${limit * HARD_LIMIT_FACTOR} bytes unsent`,
      );
    }
  }

  /** Cancels the pending check; call when the connection closes. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(delay: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#check();
    }, delay);
  }

  #check(): void {
    if (this.#overSince === undefined) return;
    if (this.#options.buffered() <= this.#options.limit) {
      this.#overSince = undefined;
      return;
    }
    const waited = this.#options.clock() - this.#overSince;
    if (waited >= this.#graceMs) {
      this.#slow(
        `slow consumer: over ${this.#options.limit} bytes unsent for ${
          this.#graceMs / 1000
        } s`,
      );
    } else {
      this.#schedule(this.#graceMs - waited);
    }
  }

  #slow(reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    this.stop();
    this.#options.onSlow(reason);
  }
}
