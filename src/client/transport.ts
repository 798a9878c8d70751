/**
 * One WebSocket of the client: it opens, hands on validated frames, and
 * reports its close. A new one is made for every connection; the client
 * ignores whatever a replaced one still reports.
 *
 * @module
 */

import { type IncomingFrame, parseServerFrame } from "./frames.ts";

/** What a transport reports. */
export interface TransportEvents {
  /** The socket is open. */
  opened(): void;
  /** A server frame the client knows (others are dropped, see `frames.ts`). */
  frame(frame: IncomingFrame): void;
  /** The socket closed with `code` and `reason`. */
  closed(code: number, reason: string): void;
}

/**
 * A socket to `url`; throws when one cannot even be made (a malformed URL).
 *
 * @example
 * ```ts
 * import { Transport } from "./transport.ts";
 *
 * // Needs a server, so the doc test only defines it.
 * function open(url: string): Transport {
 *   return new Transport(url, {
 *     opened: () => console.log("open"),
 *     frame: (frame) => console.log(frame.kind),
 *     closed: (code) => console.log(`closed with ${code}`),
 *   });
 * }
 * ```
 */
export class Transport {
  readonly #socket: WebSocket;

  /** Opens a socket to `url`, reporting to `events`. */
  constructor(url: string, events: TransportEvents) {
    const socket = new WebSocket(url);
    this.#socket = socket;
    socket.onopen = () => events.opened();
    socket.onmessage = (event) => {
      const frame = parseServerFrame(String(event.data));
      if (frame !== null) events.frame(frame);
    };
    socket.onclose = (event) => events.closed(event.code, event.reason);
    socket.onerror = () => {};
  }

  /** Whether frames can be sent now. */
  get open(): boolean {
    return this.#socket.readyState === WebSocket.OPEN;
  }

  /** Sends one text frame. */
  send(text: string): void {
    this.#socket.send(text);
  }

  /** Closes with `code` (if not closing already); resolves once closed. */
  close(code: number): Promise<void> {
    const socket = this.#socket;
    if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    const closed = new Promise<void>((resolve) =>
      socket.addEventListener("close", () => resolve(), { once: true })
    );
    if (socket.readyState !== WebSocket.CLOSING) socket.close(code);
    return closed;
  }
}
