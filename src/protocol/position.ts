/**
 * Stream positions (SPEC §7): where a channel's stream stands, as an epoch
 * and an offset.
 *
 * The offset counts the channel's messages (1, 2, 3, …); the epoch names
 * one life of the stream and changes whenever its history may have been
 * lost (a memory-engine restart, a flushed Redis), so an offset from an
 * earlier life is never taken for one of this. A message's id is its
 * position, `<epoch>-<offset>`, and the position of a stream is that of its
 * newest message (`<epoch>-0` before the first): `since` takes either, and
 * both say "everything after this". Clients treat them as opaque strings.
 *
 * @module
 */

import type { Message } from "./message.ts";

/** Where a stream stands, or where a message sits in it. */
export interface StreamPosition {
  /** One life of the stream: `[0-9a-z]+`, unique cluster-wide. */
  readonly epoch: string;
  /** Messages the stream has numbered in this epoch (a message's own number). */
  readonly offset: number;
}

/** What `Engine.read` (`src/engine/engine.ts`) found. */
export interface StreamRead {
  /** Where the stream stands: the offset of its newest message, `0` before the first. */
  readonly position: StreamPosition;
  /**
   * Messages after `since` still in history, oldest first, at most `limit`.
   * Empty without `since`, or when `since` is of another epoch (its offsets
   * mean nothing in this one).
   */
  readonly messages: readonly Message[];
  /**
   * True when nothing after `since` is lost: `messages` start right after it
   * (or it is the stream's position). False without `since`.
   */
  readonly recovered: boolean;
  /**
   * The channel's latest message of each event it keeps, read after the
   * position (so one after it may be among them), when the subscribe asked
   * (`latest`). See `Engine.latest`.
   */
  readonly latest?: readonly Message[];
}

/** How a subscription starts: where it stands, and what history it replays. */
export interface SubscriptionStart {
  /** Its stream's epoch. */
  readonly epoch: string;
  /** The offset after which it starts: `seq` 1 is the message after it. */
  readonly base: number;
  /** Messages after `base`, oldest first, to deliver before anything live. */
  readonly replay: readonly Message[];
  /**
   * The stream's offset when it was read: messages up to it are in `replay`
   * or still to be read from history; held live messages after it follow.
   */
  readonly end: number;
}

/**
 * A position as the protocol writes it, `<epoch>-<offset>`.
 *
 * @example
 * ```ts
 * import { formatPosition } from "./position.ts";
 *
 * formatPosition({ epoch: "k3x9q2a10", offset: 42 }); // "k3x9q2a10-42"
 * ```
 */
export function formatPosition(position: StreamPosition): string {
  return `${position.epoch}-${position.offset}`;
}

const POSITION = /^([0-9a-z]{1,64})-(0|[1-9][0-9]{0,15})$/;

/**
 * A `since` read back as a position, or `null` when it cannot be one (a
 * client's garbage, an id of another server): nothing can be recovered
 * from it.
 *
 * @example
 * ```ts
 * import { parsePosition } from "./position.ts";
 *
 * parsePosition("k3x9q2a10-42"); // { epoch: "k3x9q2a10", offset: 42 }
 * parsePosition("nonsense"); // null
 * ```
 */
export function parsePosition(text: string): StreamPosition | null {
  const match = POSITION.exec(text);
  if (match === null) return null;
  const offset = Number(match[2]);
  return Number.isSafeInteger(offset)
    ? { epoch: match[1] ?? "", offset }
    : null;
}

/**
 * Makes epochs unique cluster-wide without coordination: a random prefix
 * per process, then a counter.
 *
 * @example
 * ```ts
 * import { EpochSource } from "./position.ts";
 *
 * const epochs = new EpochSource();
 * epochs.next() !== epochs.next(); // true
 * ```
 */
export class EpochSource {
  readonly #prefix: string;
  #counter = 0;

  /** A source with a fresh random prefix (or `prefix`, for tests). */
  constructor(prefix?: string) {
    this.#prefix = prefix ?? randomPrefix();
  }

  /** An epoch no other call, here or on another node, returns. */
  next(): string {
    return this.#prefix + (this.#counter++).toString(36);
  }
}

/** Eight base-36 characters (41 bits): two processes sharing one is negligible. */
function randomPrefix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (byte) => (byte % 36).toString(36)).join("");
}

/**
 * How a subscription without `since` starts: at `position`, nothing
 * replayed (a pattern, which has no stream, at an empty one).
 *
 * @example
 * ```ts
 * import { liveStart } from "./position.ts";
 *
 * liveStart({ epoch: "e", offset: 7 }); // { epoch: "e", base: 7, replay: [], end: 7 }
 * ```
 */
export function liveStart(
  position: StreamPosition = { epoch: "", offset: 0 },
): SubscriptionStart {
  return {
    epoch: position.epoch,
    base: position.offset,
    replay: [],
    end: position.offset,
  };
}
