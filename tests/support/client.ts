/**
 * A WebSocket client for tests: frames are queued as they arrive and awaited
 * one by one, so tests wait on events, never on sleeps.
 *
 * @module
 */

import type { TokenClaims } from "../../src/auth/jwt.ts";
import { token } from "./server.ts";

/** A frame the server sent, parsed. */
export type Frame = Record<string, unknown> & {
  readonly requestId?: number;
  readonly result?: Record<string, unknown>;
  readonly error?: { readonly code: string; readonly message: string };
  readonly method?: string;
  readonly params?: Record<string, unknown>;
};

/** How long a test waits for a frame before it fails. */
const FRAME_TIMEOUT_MS = 5_000;

/** Notifications a server may send at any time: presence changes, and the server API's. */
const PRESENCE_NOTIFICATIONS = new Set([
  "join",
  "leave",
  "occupancy",
  "notification",
]);

/** A connected test client. */
export class TestClient implements AsyncDisposable {
  readonly socket: WebSocket;
  /** Resolves with the close event. */
  readonly closed: Promise<CloseEvent>;
  readonly #frames: Frame[] = [];
  readonly #waiters: ((frame: Frame) => void)[] = [];
  #nextId = 1;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => {
      socket.addEventListener("close", resolve, { once: true });
    });
    socket.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data)) as Frame;
      const waiter = this.#waiters.shift();
      if (waiter === undefined) this.#frames.push(frame);
      else waiter(frame);
    });
  }

  /**
   * Opens a socket to `url` and authenticates with `auth` and a test token
   * (`claims` override its defaults).
   */
  static async authed(
    url: string,
    claims: Partial<TokenClaims> = {},
  ): Promise<TestClient> {
    const client = await TestClient.connect(url);
    const result = await client.ok("auth", { token: token(claims) });
    if (result.success !== true) {
      throw new Error(`auth failed: ${JSON.stringify(result)}`);
    }
    return client;
  }

  /** Opens a socket to `url` and waits until it is open. */
  static connect(url: string): Promise<TestClient> {
    const socket = new WebSocket(url);
    const client = new TestClient(socket);
    return new Promise((resolve, reject) => {
      socket.addEventListener("open", () => resolve(client), { once: true });
      socket.addEventListener(
        "error",
        () => reject(new Error(`could not connect to ${url}`)),
        { once: true },
      );
    });
  }

  /** The next frame from the server, within `timeoutMs`. */
  next(timeoutMs = FRAME_TIMEOUT_MS): Promise<Frame> {
    const queued = this.#frames.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`no frame within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (frame: Frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
      this.#waiters.push(waiter);
    });
  }

  /** Sends raw text. */
  send(text: string): void {
    this.socket.send(text);
  }

  /** Sends a request with the next id and returns that id. */
  sendRequest(method: string, params?: unknown): number {
    const id = this.#nextId++;
    this.send(JSON.stringify({ id, method, params }));
    return id;
  }

  /**
   * Sends a request and returns its answer, which must come next; presence
   * notifications (which may come at any time) are left for `next()`, in
   * the order they came.
   */
  async request(method: string, params?: unknown): Promise<Frame> {
    const id = this.sendRequest(method, params);
    const aside: Frame[] = [];
    try {
      for (;;) {
        const frame = await this.next();
        if (frame.requestId === id) return frame;
        if (!PRESENCE_NOTIFICATIONS.has(String(frame.method))) {
          throw new Error(
            `expected the answer to ${id}, got ${JSON.stringify(frame)}`,
          );
        }
        aside.push(frame);
      }
    } finally {
      this.#frames.unshift(...aside);
    }
  }

  /** Sends a request that must succeed; returns its result. */
  async ok(method: string, params?: unknown): Promise<Record<string, unknown>> {
    const frame = await this.request(method, params);
    if (frame.result === undefined) {
      throw new Error(`${method} failed: ${JSON.stringify(frame.error)}`);
    }
    return frame.result;
  }

  /** The next frame, which must be a broadcast; returns its params. */
  async broadcast(): Promise<Record<string, unknown>> {
    const frame = await this.next();
    if (frame.method !== "broadcast" || frame.params === undefined) {
      throw new Error(`expected a broadcast, got ${JSON.stringify(frame)}`);
    }
    return frame.params;
  }

  /** Closes the socket and waits for the close to complete. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.close(1000);
    await this.closed;
  }
}
