/**
 * The slow-consumer policy of one connection, read off
 * `socket.bufferedAmount`: Deno has no drain event and no cap, so a client
 * that stops reading would otherwise make the server buffer without bound.
 *
 * Over the limit, broadcasts are dropped (the hub has counted their `seq`, so
 * the gap is visible); still over after a grace period, or over four times
 * the limit at any moment, the connection is closed (1013).
 *
 * Reading `bufferedAmount` is a call into Deno's Rust side, and once per
 * delivery it cost a measurable share of fan-out (`deno task bench`). So the
 * policy keeps an upper bound of the unsent bytes instead: the last reading
 * plus everything sent since, at 3 bytes per UTF-16 unit. Draining only lowers
 * the true value, so while the bound is within the limit the real backlog is
 * too; only when it crosses the limit is `bufferedAmount` read again. The
 * decisions are exactly those of reading it every time.
 *
 * @module
 */

/** How long a connection may stay over the limit before it is closed. */
export const SLOW_CONSUMER_GRACE_MS = 10_000;

/** How far over the limit a connection is closed at once. */
export const HARD_LIMIT_FACTOR = 4;

/** Settings shared by every connection of a server. */
export interface SlowConsumerSettings {
  /** Unsent bytes past which broadcasts are dropped (`OUTBOUND_BUFFER_BYTES`). */
  readonly limit: number;
  /** Epoch milliseconds. */
  readonly clock: () => number;
  /** Defaults to {@linkcode SLOW_CONSUMER_GRACE_MS}. */
  readonly graceMs?: number;
}

/** The connection a policy watches: its backlog, and how to end it. */
export interface Outbound {
  /** The socket's unsent bytes right now (`socket.bufferedAmount`). */
  readonly bufferedAmount: number;
  /** Closes the connection as a slow consumer, with the reason. */
  closeSlow(reason: string): void;
}

/**
 * Decides, per broadcast, whether a connection still gets it.
 *
 * @example
 * ```ts
 * const policy = new SlowConsumerPolicy({ limit: 1 << 20, clock: Date.now }, {
 *   get bufferedAmount() { return socket.bufferedAmount; },
 *   closeSlow: (reason) => socket.close(1013, reason),
 * });
 * if (policy.admits(frame.length)) socket.send(frame);
 * ```
 */
export class SlowConsumerPolicy {
  readonly #settings: SlowConsumerSettings;
  readonly #outbound: Outbound;
  /** At least the bytes unsent right now (see the module doc). */
  #bound = 0;
  #overSince: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #dropped = 0;
  #closing = false;

  constructor(settings: SlowConsumerSettings, outbound: Outbound) {
    this.#settings = settings;
    this.#outbound = outbound;
  }

  get #graceMs(): number {
    return this.#settings.graceMs ?? SLOW_CONSUMER_GRACE_MS;
  }

  /** Broadcasts dropped so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * True when a broadcast of `length` UTF-16 units may be sent now (and is
   * counted as sent); false means it is dropped.
   */
  admits(length: number): boolean {
    const limit = this.#settings.limit;
    if (this.#bound > limit) {
      this.#bound = this.#outbound.bufferedAmount;
      if (this.#bound > limit) {
        this.#over(limit);
        return false;
      }
    }
    this.#overSince = undefined;
    this.#bound += length * 3;
    return true;
  }

  /**
   * Counts a reply of `length` UTF-16 units, which is never dropped; a client
   * that reads none is closed all the same.
   */
  afterReply(length: number): void {
    const hardLimit = this.#settings.limit * HARD_LIMIT_FACTOR;
    this.#bound += length * 3;
    if (this.#bound > hardLimit) {
      this.#bound = this.#outbound.bufferedAmount;
      if (this.#bound > hardLimit) {
        this.#slow(`slow consumer: over ${hardLimit} bytes unsent`);
      }
    }
  }

  #over(limit: number): void {
    this.#dropped++;
    if (this.#bound > limit * HARD_LIMIT_FACTOR) {
      this.#slow(
        `slow consumer: over ${limit * HARD_LIMIT_FACTOR} bytes unsent`,
      );
    } else if (this.#overSince === undefined) {
      this.#overSince = this.#settings.clock();
      this.#schedule(this.#graceMs);
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
    this.#bound = this.#outbound.bufferedAmount;
    if (this.#bound <= this.#settings.limit) {
      this.#overSince = undefined;
      return;
    }
    const waited = this.#settings.clock() - this.#overSince;
    if (waited >= this.#graceMs) {
      this.#slow(
        `slow consumer: over ${this.#settings.limit} bytes unsent for ${
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
    this.#outbound.closeSlow(reason);
  }
}
