/**
 * A backlog of broadcasts counted in messages, for a protocol whose document
 * asks for one (Nova: 100 per viewer, the oldest dropped, the viewer told).
 *
 * Deno's WebSocket has no drain event, so "pending" means: the socket
 * already holds its limit of unsent bytes (`OUTBOUND_BUFFER_BYTES`). Past
 * that, broadcasts wait here; past `messages` waiting, the oldest go, and
 * the owner hears of the first drop at once (so what it sends about it
 * reaches the client where the gap is). The queue is flushed as the socket
 * drains, checked every {@linkcode BACKLOG_CHECK_MS}.
 * Memory per viewer stays bounded by the byte limit and the message count.
 *
 * @module
 */

/** How often a waiting backlog checks whether the socket has drained. */
export const BACKLOG_CHECK_MS = 50;

/** Where a backlog sends, and whom it tells. */
export interface BacklogSocket {
  /** Unsent bytes of the socket. */
  readonly bufferedAmount: number;
  /** Sends a frame now. */
  send(frame: string): void;
  /** The oldest waiting message was dropped; `first` when none was since the queue last drained. */
  dropped(first: boolean): void;
}

/**
 * The broadcasts waiting for one socket.
 *
 * @example
 * ```ts
 * import { MessageBacklog } from "./message_backlog.ts";
 *
 * const sent: string[] = [];
 * const backlog = new MessageBacklog(100, 1 << 20, {
 *   bufferedAmount: 0,
 *   send: (frame) => sent.push(frame),
 *   dropped: () => {},
 * });
 * backlog.offer("a"); // sent at once: the socket is not behind
 * backlog.close();
 * ```
 */
export class MessageBacklog {
  readonly #messages: number;
  readonly #bytes: number;
  readonly #socket: BacklogSocket;
  #queue: string[] = [];
  /** Whether a message was dropped since the queue last drained. */
  #overflowing = false;
  /** What to do once everything waiting has been sent. */
  #drained: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** At most `messages` wait while `socket` holds over `bytes` unsent. */
  constructor(messages: number, bytes: number, socket: BacklogSocket) {
    this.#messages = messages;
    this.#bytes = bytes;
    this.#socket = socket;
  }

  /** How many wait. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Sends `frame`, or queues it behind the others while the socket is behind. */
  offer(frame: string): void {
    if (
      this.#queue.length === 0 && this.#socket.bufferedAmount <= this.#bytes
    ) {
      this.#socket.send(frame);
      return;
    }
    this.#queue.push(frame);
    if (this.#queue.length > this.#messages) {
      this.#queue.shift();
      this.#socket.dropped(!this.#overflowing);
      this.#overflowing = true;
    }
    this.#timer ??= setTimeout(() => this.#flush(), BACKLOG_CHECK_MS);
  }

  /**
   * Runs `then` once everything waiting has been handed to the socket: at
   * once when nothing waits (a last frame, then the close).
   */
  afterDrain(then: () => void): void {
    if (this.#queue.length === 0) then();
    else this.#drained = then;
  }

  /** Stops checking; what waits is forgotten. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
  }

  #flush(): void {
    this.#timer = undefined;
    while (
      this.#queue.length > 0 && this.#socket.bufferedAmount <= this.#bytes
    ) {
      const frame = this.#queue.shift();
      if (frame !== undefined) this.#socket.send(frame);
    }
    if (this.#queue.length > 0) {
      this.#timer = setTimeout(() => this.#flush(), BACKLOG_CHECK_MS);
      return;
    }
    this.#overflowing = false;
    const drained = this.#drained;
    this.#drained = undefined;
    drained?.();
  }
}
