/**
 * A backlog of broadcasts counted in messages, for a protocol whose document
 * asks for one (Nova: 100 per viewer, the oldest dropped, the viewer told).
 *
 * Deno's WebSocket has no drain event, so "pending" means: the socket
 * already holds its limit of unsent bytes (`OUTBOUND_BUFFER_BYTES`). Past
 * that, broadcasts wait here; past `messages` waiting, the oldest go. The
 * queue is flushed as the socket drains, checked every
 * {@linkcode BACKLOG_CHECK_MS}; then the owner hears how many were dropped.
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
  /** Messages were dropped (`dropped`), and the queue has drained since. */
  overflowed(dropped: number): void;
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
 *   overflowed: () => {},
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
  #dropped = 0;
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
      this.#dropped++;
    }
    this.#timer ??= setTimeout(() => this.#flush(), BACKLOG_CHECK_MS);
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
    if (this.#dropped > 0) {
      const dropped = this.#dropped;
      this.#dropped = 0;
      this.#socket.overflowed(dropped);
    }
  }
}
