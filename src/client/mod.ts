/**
 * The Broadcaster client: connects, authenticates, subscribes, and keeps
 * doing so across flaky networks, so the application sees every message
 * exactly once and in order. Zero dependencies; browsers, Deno, Node ≥ 22.
 *
 * - Connects and authenticates on its own, asking `token()` on every connect
 *   and when the server warns the token is expiring (refreshed in place).
 * - Reconnects with exponential backoff and full jitter, capped; the backoff
 *   resets once a connection has stayed healthy.
 * - Resubscribes every channel with `since` = the last id it delivered, and
 *   recovers the same way when it sees a `seq` gap; when the server cannot
 *   recover (`recovered: false`) it calls the subscription's `onReset`.
 * - Follows the close codes: no reconnect loop after 1003, 1008, 1009 (a bug
 *   to fix); a fresh token after 4001.
 * - Requests time out with typed errors; `close()` leaves no timer behind.
 *
 * @example
 * ```ts
 * const client = new BroadcasterClient({ url, token: () => fetchToken() });
 * const sub = client.subscribe("room1", (message) => console.log(message.payload));
 * const { id, createTime } = await client.publish("room1", "event", { hello: "world" });
 * sub.unsubscribe();
 * await client.close();
 * ```
 *
 * @module
 */

/** A message as the server broadcasts it. */
export interface BroadcastMessage {
  readonly id: string;
  /** Per subscription; restarts at 1 when the client resubscribes. */
  readonly seq: number;
  readonly createTime: string;
  readonly channel: string;
  readonly event: string;
  readonly payload: unknown;
}

/** Where the client stands. */
export type ConnectionState =
  | "connecting"
  | "connected"
  | "disconnected"
  | "closed";

/** Options of {@linkcode BroadcasterClient}. */
export interface BroadcasterClientOptions {
  /** The socket URL, e.g. `wss://example.com/broadcaster/websocket`. */
  readonly url: string;
  /** A fresh token; called on every connect and when the server warns of expiry. */
  readonly token: () => string | Promise<string>;
  /** How long a request may wait for its answer (10 s). */
  readonly requestTimeoutMs?: number;
  /** First reconnect delay ceiling (500 ms); doubles per failed attempt. */
  readonly initialBackoffMs?: number;
  /** Largest reconnect delay ceiling (30 s). */
  readonly maxBackoffMs?: number;
  /** How long a connection must last to reset the backoff (5 s). */
  readonly healthyAfterMs?: number;
  /** Called whenever the connection state changes. */
  readonly onStateChange?: (state: ConnectionState) => void;
  /** Called with errors the application should know of (refused auth, fatal close). */
  readonly onError?: (error: Error) => void;
}

/** Options of one subscription. */
export interface SubscribeOptions {
  /**
   * Called when missed messages cannot be recovered (the server no longer
   * has them): reload the state this channel feeds, then carry on.
   */
  readonly onReset?: () => void;
}

/** A subscription; `unsubscribe()` ends it. */
export interface Subscription {
  readonly channel: string;
  /**
   * Resolves when the server first confirms the subscription (messages
   * published from then on arrive); rejects with the server's
   * {@linkcode BroadcasterError} if it refuses.
   */
  readonly ready: Promise<void>;
  unsubscribe(): void;
}

/** An error the server answered with. */
export class BroadcasterError extends Error {
  override readonly name = "BroadcasterError";
  /** The protocol's error code, e.g. `PermissionDenied`. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

/** A request got no answer in time. */
export class RequestTimeoutError extends Error {
  override readonly name = "RequestTimeoutError";
}

/** The client was closed, or the server closed it for good. */
export class ClientClosedError extends Error {
  override readonly name = "ClientClosedError";
}

/** Close codes after which reconnecting cannot help: the client has a bug. */
const FATAL_CLOSE_CODES = new Set([1003, 1008, 1009]);

interface Pending {
  readonly resolve: (result: Record<string, unknown>) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

interface ChannelState {
  readonly channel: string;
  readonly onMessage: (message: BroadcastMessage) => void;
  readonly onReset: (() => void) | undefined;
  /** The id of the last message delivered to the application. */
  lastId: string | undefined;
  /** The `seq` of the last message seen on the current server subscription. */
  lastSeq: number;
  /** True while subscribed on the current connection and in step. */
  live: boolean;
  /** Whether the server has ever confirmed this subscription: only then can messages have been missed. */
  confirmed: boolean;
  /** Settles {@linkcode Subscription.ready}. */
  readonly settle: (error?: Error) => void;
}

/**
 * A Broadcaster connection that survives network failures.
 *
 * @example
 * ```ts
 * const client = new BroadcasterClient({ url: "ws://127.0.0.1:8000/broadcaster/websocket", token: () => token });
 * client.subscribe("room1", (message) => console.log(message.event, message.payload));
 * ```
 */
export class BroadcasterClient {
  readonly #options: BroadcasterClientOptions;
  readonly #channels = new Map<string, ChannelState>();
  readonly #pending = new Map<number, Pending>();
  readonly #waiters = new Set<() => void>();
  #socket: WebSocket | undefined;
  #state: ConnectionState = "connecting";
  #nextId = 1;
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #healthyTimer: ReturnType<typeof setTimeout> | undefined;
  #closedForGood: Error | undefined;

  constructor(options: BroadcasterClientOptions) {
    this.#options = options;
    this.#connect();
  }

  /** Where the client stands now. */
  get state(): ConnectionState {
    return this.#state;
  }

  /**
   * Subscribes to `channel`: `onMessage` gets every message, once, in order,
   * across reconnects. Subscribing twice to one channel replaces the handler.
   */
  subscribe(
    channel: string,
    onMessage: (message: BroadcastMessage) => void,
    options: SubscribeOptions = {},
  ): Subscription {
    let settle: (error?: Error) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      settle = (error) => error === undefined ? resolve() : reject(error);
    });
    // Handled here too, so an application that never awaits it sees no unhandled rejection.
    ready.catch(() => {});
    const state: ChannelState = {
      channel,
      onMessage,
      onReset: options.onReset,
      lastId: undefined,
      lastSeq: 0,
      live: false,
      confirmed: false,
      settle,
    };
    this.#channels.set(channel, state);
    if (this.#state === "connected") void this.#resubscribe(state);
    return {
      channel,
      ready,
      unsubscribe: () => {
        if (this.#channels.get(channel) !== state) return;
        this.#channels.delete(channel);
        if (this.#state === "connected") {
          this.#request("unsubscribe", { channel }).catch(() => {});
        }
      },
    };
  }

  /** Publishes (the token needs the `publish` scope); waits for a connection if there is none yet. */
  async publish(
    channel: string,
    event: string,
    payload: unknown,
  ): Promise<{ id: string; createTime: string }> {
    await this.#connected();
    const result = await this.#request("publish", { channel, event, payload });
    return { id: String(result.id), createTime: String(result.createTime) };
  }

  /** Closes for good: no reconnect, no timer left behind. */
  close(): Promise<void> {
    this.#closedForGood ??= new ClientClosedError("client closed");
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#healthyTimer);
    this.#failPending(this.#closedForGood);
    this.#setState("closed");
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket === undefined || socket.readyState === WebSocket.CLOSED) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      socket.addEventListener("close", () => resolve(), { once: true });
      if (socket.readyState !== WebSocket.CLOSING) socket.close(1000);
    });
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    if (state === "connected" || state === "closed") {
      for (const wake of this.#waiters) wake();
      this.#waiters.clear();
    }
    this.#options.onStateChange?.(state);
  }

  #connected(): Promise<void> {
    if (this.#state === "connected") return Promise.resolve();
    if (this.#closedForGood !== undefined) {
      return Promise.reject(this.#closedForGood);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(new RequestTimeoutError("not connected in time"));
      }, this.#options.requestTimeoutMs ?? 10_000);
      const wake = () => {
        clearTimeout(timer);
        if (this.#closedForGood !== undefined) reject(this.#closedForGood);
        else resolve();
      };
      this.#waiters.add(wake);
    });
  }

  #connect(): void {
    if (this.#closedForGood !== undefined) return;
    this.#setState("connecting");
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.#options.url);
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.#socket = socket;
    socket.onopen = () => void this.#onOpen(socket);
    socket.onmessage = (event) => this.#onFrame(socket, String(event.data));
    socket.onclose = (event) => this.#onClose(socket, event.code);
    socket.onerror = () => {};
  }

  async #onOpen(socket: WebSocket): Promise<void> {
    try {
      await this.#authenticate();
      if (socket !== this.#socket) return;
      this.#setState("connected");
      this.#healthyTimer = setTimeout(
        () => this.#attempt = 0,
        this.#options.healthyAfterMs ?? 5_000,
      );
      await Promise.all(
        [...this.#channels.values()].map((state) => this.#resubscribe(state)),
      );
    } catch (error) {
      if (socket !== this.#socket) return;
      this.#options.onError?.(
        error instanceof Error ? error : new Error(String(error)),
      );
      // A refused token will not get better by retrying at once: back off.
      socket.close(1000);
    }
  }

  async #authenticate(): Promise<void> {
    const token = await this.#options.token();
    await this.#request("auth", { token });
  }

  /**
   * (Re)subscribes one channel: with `since` = the last delivered id when
   * there is one; without, it learns the channel's newest id from history so
   * a later reconnect can recover from it.
   */
  async #resubscribe(state: ChannelState): Promise<void> {
    state.live = false;
    const params: Record<string, unknown> = { channel: state.channel };
    if (state.lastId !== undefined) params.since = state.lastId;
    try {
      const result = await this.#request("subscribe", params);
      if (this.#channels.get(state.channel) !== state) return;
      state.lastSeq = 0;
      state.live = true;
      // Lost: the server could not replay from our position, or we had none to give it.
      const lost = state.lastId !== undefined
        ? result.recovered === false
        : state.confirmed;
      state.confirmed = true;
      state.settle();
      if (lost) state.onReset?.();
      if (state.lastId === undefined) await this.#learnPosition(state);
    } catch (error) {
      if (error instanceof BroadcasterError) {
        // Refused (e.g. PermissionDenied): retrying cannot help; the subscription ends.
        this.#channels.delete(state.channel);
        state.settle(error);
        this.#options.onError?.(error);
      }
    }
  }

  /** The newest id in history: everything after it reaches this subscription. */
  async #learnPosition(state: ChannelState): Promise<void> {
    try {
      const result = await this.#request("history", {
        channel: state.channel,
        limit: 1,
      });
      const [newest] = (result.messages ?? []) as { id?: unknown }[];
      // Only if nothing was delivered meanwhile: what history returns was sent before its answer.
      if (state.lastId === undefined && typeof newest?.id === "string") {
        state.lastId = newest.id;
      }
    } catch {
      // Without history, a reconnect will call onReset instead of recovering.
    }
  }

  #onFrame(socket: WebSocket, text: string): void {
    if (socket !== this.#socket) return;
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame.method === "broadcast") {
      this.#onBroadcast(frame.params as BroadcastMessage);
      return;
    }
    if (frame.method === "tokenExpiring") {
      this.#authenticate().catch((error) => this.#options.onError?.(error));
      return;
    }
    if (frame.method === "unsubscribed") {
      const channel = (frame.params as { channel?: string } | undefined)
        ?.channel;
      if (channel !== undefined) {
        this.#channels.delete(channel);
        this.#options.onError?.(
          new BroadcasterError(
            "PermissionDenied",
            `unsubscribed from ${channel}`,
          ),
        );
      }
      return;
    }
    const requestId = frame.requestId;
    if (typeof requestId !== "number") return;
    const pending = this.#pending.get(requestId);
    if (pending === undefined) return;
    this.#pending.delete(requestId);
    clearTimeout(pending.timer);
    const error = frame.error as
      | { code?: string; message?: string }
      | undefined;
    if (error !== undefined) {
      pending.reject(
        new BroadcasterError(error.code ?? "Internal", error.message ?? ""),
      );
    } else {
      pending.resolve((frame.result ?? {}) as Record<string, unknown>);
    }
  }

  /** Delivers in step; a gap means messages were missed: recover them with `since`. */
  #onBroadcast(message: BroadcastMessage): void {
    const state = this.#channels.get(message.channel);
    if (state === undefined || !state.live) return;
    if (message.seq <= state.lastSeq) return;
    if (message.seq !== state.lastSeq + 1) {
      void this.#recover(state);
      return;
    }
    state.lastSeq = message.seq;
    state.lastId = message.id;
    state.onMessage(message);
  }

  async #recover(state: ChannelState): Promise<void> {
    state.live = false;
    try {
      await this.#request("unsubscribe", { channel: state.channel });
    } catch {
      // Already gone server-side: subscribe again all the same.
    }
    if (this.#channels.get(state.channel) === state) {
      await this.#resubscribe(state);
    }
  }

  #request(method: string, params: unknown): Promise<Record<string, unknown>> {
    const socket = this.#socket;
    if (socket === undefined || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(this.#closedForGood ?? new Error("not connected"));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new RequestTimeoutError(`${method} got no answer in time`));
      }, this.#options.requestTimeoutMs ?? 10_000);
      this.#pending.set(id, { resolve, reject, timer });
      socket.send(JSON.stringify({ id, method, params }));
    });
  }

  #failPending(error: Error): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
  }

  #onClose(socket: WebSocket, code: number): void {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    clearTimeout(this.#healthyTimer);
    for (const state of this.#channels.values()) state.live = false;
    this.#failPending(new Error(`connection closed (${code})`));
    if (this.#closedForGood !== undefined) return;
    if (FATAL_CLOSE_CODES.has(code)) {
      this.#fail(
        new ClientClosedError(
          `closed by the server with ${code}: fix the client`,
        ),
      );
      return;
    }
    this.#setState("disconnected");
    // Full jitter: anywhere up to the capped exponential ceiling (4001 retries at once, with a new token).
    const ceiling = Math.min(
      this.#options.maxBackoffMs ?? 30_000,
      (this.#options.initialBackoffMs ?? 500) * 2 ** this.#attempt,
    );
    this.#attempt++;
    const delay = code === 4001 ? 0 : Math.random() * ceiling;
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay);
  }

  #fail(error: Error): void {
    this.#closedForGood = error;
    this.#options.onError?.(error);
    this.#failPending(error);
    this.#setState("closed");
  }
}
