/**
 * The outbound meter of one connection: which broadcasts are dropped while
 * the client is not reading, and when the socket's backlog crosses
 * `OUTBOUND_BUFFER_BYTES`. What follows a crossing (close 1013 now, or after
 * a grace period) is the reducer's decision (`src/protocol/outbound.ts`).
 *
 * Reading `socket.bufferedAmount` is a call into Deno's Rust side, and once
 * per delivery it cost a measurable share of fan-out (`deno task bench`). So
 * the meter keeps an upper bound of the unsent bytes instead: the last
 * reading plus everything sent since, at 3 bytes per UTF-16 unit. Draining
 * only lowers the true value, so while the bound is within the limit the real
 * backlog is too; only when it crosses the limit is `bufferedAmount` read
 * again. The decisions are exactly those of reading it every time.
 *
 * @module
 */

import { HARD_LIMIT_FACTOR } from "../protocol/outbound.ts";

/**
 * The connection a meter watches. Implemented by the connection itself, so
 * an idle connection carries no closures for it.
 */
export interface Outbound {
  /** The socket's unsent bytes right now (`socket.bufferedAmount`). */
  readonly bufferedAmount: number;
  /**
   * Told the measured backlog when it goes over the limit or over four times
   * it, or comes back under either: once per crossing.
   */
  onBacklog(bytes: number): void;
}

/**
 * Decides, per frame, whether a broadcast is sent, and reports crossings.
 *
 * @example
 * ```ts
 * import { OutboundMeter } from "./outbound_meter.ts";
 *
 * const socket = {
 *   bufferedAmount: 0,
 *   onBacklog: (bytes: number) => console.log(`backlog ${bytes}`),
 * };
 * const meter = new OutboundMeter(1024, socket);
 * if (meter.admits(100)) socket.bufferedAmount += 100;
 * ```
 */
export class OutboundMeter {
  /** Unsent bytes past which broadcasts are dropped (`OUTBOUND_BUFFER_BYTES`). */
  readonly #limit: number;
  readonly #outbound: Outbound;
  /** At least the bytes unsent right now (see the module doc). */
  #bound = 0;
  /** Where the last reading stood: over the limit, and over four times it. */
  #over = false;
  #hard = false;
  #dropped = 0;

  /** A meter dropping broadcasts past `limit` unsent bytes of `outbound`. */
  constructor(limit: number, outbound: Outbound) {
    this.#limit = limit;
    this.#outbound = outbound;
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
    const limit = this.#limit;
    if (this.#bound > limit) {
      if (this.#read(true) > limit) {
        this.#dropped++;
        return false;
      }
    }
    this.#bound += length * 3;
    return true;
  }

  /**
   * Counts a reply of `length` UTF-16 units, which is never dropped; a client
   * that reads none is reported once it is over four times the limit.
   */
  afterReply(length: number): void {
    const hardLimit = this.#limit * HARD_LIMIT_FACTOR;
    this.#bound += length * 3;
    if (this.#bound > hardLimit) this.#read(true);
  }

  /**
   * Reads the socket's backlog now, for a caller that hands it on itself
   * (the reducer's `measureBacklog`): no crossing is reported.
   */
  measure(): number {
    return this.#read(false);
  }

  #read(report: boolean): number {
    const bytes = this.#outbound.bufferedAmount;
    this.#bound = bytes;
    const limit = this.#limit;
    const over = bytes > limit;
    const hard = bytes > limit * HARD_LIMIT_FACTOR;
    // Each crossing is reported once: a client over the limit for long does
    // not queue a reading per dropped broadcast.
    const crossed = over !== this.#over || hard !== this.#hard;
    this.#over = over;
    this.#hard = hard;
    if (report && crossed) this.#outbound.onBacklog(bytes);
    return bytes;
  }
}
