/**
 * A test client of a JSON-over-WebSocket dialect: every frame received is
 * kept, and tests take the ones they wait for, in order, never sleeping.
 *
 * @module
 */

import { Observed } from "./observed.ts";

/** A connected client whose frames are JSON of type `F`. */
export class JsonClient<F> implements AsyncDisposable {
  readonly socket: WebSocket;
  /** Every frame received, in order. */
  readonly frames = new Observed<F>();
  /** Resolves with the close event. */
  readonly closed: Promise<CloseEvent>;
  /** Frames already taken. */
  readonly #taken = new Set<F>();

  constructor(socket: WebSocket) {
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    this.closed = new Promise((resolve) => {
      socket.addEventListener("close", resolve, { once: true });
    });
    socket.addEventListener("message", (event) => {
      this.frames.push(JSON.parse(String(event.data)));
    });
  }

  /** The first frame matching `match` not taken yet; waits for it (naming `what` if it never comes). */
  async take(match: (frame: F) => boolean, what: string): Promise<F> {
    const find = () =>
      this.frames.values.find((frame) =>
        !this.#taken.has(frame) && match(frame)
      );
    await this.frames.until(() => find() !== undefined, what);
    const frame = find();
    if (frame === undefined) throw new Error("unreachable");
    this.#taken.add(frame);
    return frame;
  }

  /** Sends a frame as it is. */
  sendRaw(frame: string | Uint8Array<ArrayBuffer>): void {
    this.socket.send(frame);
  }

  /** Closes the socket and waits until it has closed. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.socket.readyState <= WebSocket.OPEN) this.socket.close();
    await this.closed;
  }
}
