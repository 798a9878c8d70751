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
 * Every decision is made by a pure core (`core.ts`), tested without sockets;
 * this module is its shell: the socket, the timers and your callbacks.
 *
 * @example
 * ```ts
 * import { BroadcasterClient } from "./mod.ts";
 *
 * // Needs a server, so the doc test only defines it.
 * async function chat(token: () => Promise<string>): Promise<void> {
 *   const client = new BroadcasterClient({
 *     url: "ws://127.0.0.1:8000/broadcaster/websocket",
 *     token,
 *   });
 *   const sub = client.subscribe("room1", (message) => console.log(message.payload));
 *   await sub.ready;
 *   const { id } = await client.publish("room1", "event", { hello: "world" });
 *   console.log(`published ${id}`);
 *   sub.unsubscribe();
 *   await client.close();
 * }
 * ```
 *
 * @module
 */

import { step } from "./core.ts";
import {
  BroadcasterError,
  ClientClosedError,
  RequestTimeoutError,
} from "./errors.ts";
import {
  type BackoffOptions,
  type ClientCommand,
  type ClientEvent,
  type ClientState,
  INITIAL_STATE,
} from "./events.ts";
import { parseServerFrame } from "./frames.ts";
import { Listeners } from "./listeners.ts";
import * as operations from "./operations.ts";
import { Requests, type Settle } from "./requests.ts";
import type {
  BroadcasterClientOptions,
  BroadcastMessage,
  ConnectionState,
  SubscribeOptions,
  Subscription,
} from "./types.ts";

export { BroadcasterError, ClientClosedError, RequestTimeoutError };
export type {
  BroadcasterClientOptions,
  BroadcastMessage,
  ConnectionState,
  SubscribeOptions,
  Subscription,
};

/** A Broadcaster connection that survives network failures (see the module doc). */
export class BroadcasterClient {
  readonly #options: BroadcasterClientOptions;
  readonly #backoff: BackoffOptions;
  readonly #requests: Requests;
  readonly #listeners: Listeners;
  readonly #queue: ClientEvent[] = [];
  #core: ClientState = INITIAL_STATE;
  #dispatching = false;
  #socket: WebSocket | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #healthyTimer: ReturnType<typeof setTimeout> | undefined;
  #closedForGood: Error | undefined;

  /** Starts connecting at once; see {@linkcode BroadcasterClientOptions}. */
  constructor(options: BroadcasterClientOptions) {
    this.#options = options;
    this.#backoff = {
      initialBackoffMs: options.initialBackoffMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      healthyAfterMs: options.healthyAfterMs ?? 5_000,
    };
    this.#requests = new Requests(options.requestTimeoutMs ?? 10_000);
    this.#listeners = new Listeners(options);
    this.#connect();
  }

  /** Where the client stands now. */
  get state(): ConnectionState {
    return this.#core.phase;
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
    const registration = this.#listeners.add(
      channel,
      onMessage,
      options.onReset,
    );
    const { generation, ready } = registration;
    this.#dispatch({ kind: "subscribeAsked", channel, generation });
    return {
      channel,
      ready,
      unsubscribe: () => {
        if (!registration.remove()) return;
        this.#dispatch({ kind: "unsubscribeAsked", channel, generation });
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
    const result = await new Promise<Readonly<Record<string, unknown>>>(
      (resolve, reject) =>
        this.#request("publish", { channel, event, payload }, (answer) => {
          if (answer.ok) resolve(answer.result);
          else reject(answer.error);
        }),
    );
    return { id: String(result.id), createTime: String(result.createTime) };
  }

  /** Closes for good: no reconnect, no timer left behind. */
  close(): Promise<void> {
    this.#closedForGood ??= new ClientClosedError("client closed");
    // Detached first: nothing that settles below may act on this socket.
    const socket = this.#socket;
    this.#socket = undefined;
    let closed = Promise.resolve();
    if (socket !== undefined && socket.readyState !== WebSocket.CLOSED) {
      closed = new Promise<void>((resolve) =>
        socket.addEventListener("close", () => resolve(), { once: true })
      );
      // Closed here, not by a command: close() may be called from a
      // callback, while the core's commands wait their turn.
      if (socket.readyState !== WebSocket.CLOSING) socket.close(1000);
    }
    this.#dispatch({ kind: "closeAsked" });
    this.#requests.failAll(this.#closedForGood);
    return closed;
  }

  /** Hands `event` to the core and runs its commands; events raised meanwhile wait their turn. */
  #dispatch(event: ClientEvent): void {
    this.#queue.push(event);
    if (this.#dispatching) return;
    this.#dispatching = true;
    try {
      let next: ClientEvent | undefined;
      while ((next = this.#queue.shift()) !== undefined) {
        const { state, commands } = step(this.#core, next, this.#backoff);
        this.#core = state;
        for (const command of commands) this.#run(command);
      }
    } finally {
      this.#dispatching = false;
    }
  }

  #run(command: ClientCommand): void {
    const request: operations.RequestFn = (method, params, settle) =>
      this.#request(method, params, settle);
    const done = this.#outcomeOn(this.#socket);
    switch (command.kind) {
      case "connect":
        return this.#connect();
      case "authenticate":
        return operations.authenticate(request, this.#options.token, done);
      case "subscribe":
        return operations.subscribe(request, command, done, () => {
          const record = this.#core.channels.get(command.channel);
          return record?.generation === command.generation;
        });
      case "unsubscribe":
        return this.#request(
          "unsubscribe",
          { channel: command.channel },
          () => {},
        );
      case "learnPosition":
        return operations.learnPosition(request, command, done);
      case "deliver":
        return this.#listeners.deliver(command.message);
      case "reset":
        return this.#listeners.reset(command.channel);
      case "ready":
        return this.#listeners.ready(command);
      case "ended":
        return this.#listeners.ended(command.channel);
      case "phase":
        return this.#listeners.phase(command.phase);
      case "reconnectIn":
        this.#reconnectTimer = setTimeout(
          () => this.#dispatch({ kind: "reconnectDue" }),
          command.delayMs,
        );
        return;
      case "healthyIn":
        this.#healthyTimer = setTimeout(
          () => this.#dispatch({ kind: "healthy" }),
          command.delayMs,
        );
        return;
      case "stopTimers":
        clearTimeout(this.#reconnectTimer);
        clearTimeout(this.#healthyTimer);
        return;
      case "closeSocket": {
        const socket = this.#socket;
        if (socket !== undefined && socket.readyState <= WebSocket.OPEN) {
          socket.close(command.code);
        }
        return;
      }
      case "fatal":
        return this.#stop(
          new ClientClosedError(
            `closed by the server with ${command.code}: fix the client`,
          ),
        );
    }
  }

  /** Stops for good with `error`, told to the application. */
  #stop(error: Error): void {
    this.#closedForGood = error;
    this.#listeners.report(error);
    this.#requests.failAll(error);
  }

  #connected(): Promise<void> {
    if (this.#core.phase === "connected") return Promise.resolve();
    if (this.#closedForGood !== undefined) {
      return Promise.reject(this.#closedForGood);
    }
    return this.#listeners.nextConnection(
      this.#options.requestTimeoutMs ?? 10_000,
      () => this.#closedForGood,
    );
  }

  #connect(): void {
    if (this.#closedForGood !== undefined) return;
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.#options.url);
    } catch (error) {
      this.#stop(error instanceof Error ? error : new Error(String(error)));
      this.#dispatch({ kind: "connectFailed" });
      return;
    }
    this.#socket = socket;
    socket.onopen = () => this.#on(socket, { kind: "opened" });
    socket.onmessage = (event) => this.#onFrame(socket, String(event.data));
    socket.onclose = (event) => {
      if (socket !== this.#socket) return;
      this.#socket = undefined;
      this.#requests.failAll(new Error(`connection closed (${event.code})`));
      this.#dispatch({
        kind: "closed",
        code: event.code,
        jitter: Math.random(),
      });
    };
    socket.onerror = () => {};
  }

  /**
   * Where an operation on `socket` reports its outcome: dispatched if that
   * socket is still the current one, a failure's reason reported.
   */
  #outcomeOn(
    socket: WebSocket | undefined,
  ): (outcome: operations.Outcome) => void {
    return ({ event, error }) => {
      if (socket === undefined || socket !== this.#socket) return;
      if (error !== undefined) this.#listeners.report(error);
      if (event !== null) this.#dispatch(event);
    };
  }

  /** Dispatches `event` if it comes from the current socket. */
  #on(socket: WebSocket | undefined, event: ClientEvent): void {
    if (socket !== undefined && socket === this.#socket) this.#dispatch(event);
  }

  #onFrame(socket: WebSocket, text: string): void {
    if (socket !== this.#socket) return;
    const frame = parseServerFrame(text);
    if (frame === null) return;
    switch (frame.kind) {
      case "result":
      case "error":
        return this.#requests.answer(frame);
      case "broadcast":
        return this.#dispatch({ kind: "broadcast", message: frame.message });
      case "tokenExpiring":
        return this.#dispatch({ kind: "tokenExpiring" });
      case "unsubscribed":
        return this.#dispatch({ kind: "unsubscribed", channel: frame.channel });
    }
  }

  #request(method: string, params: unknown, settle: Settle): void {
    const socket = this.#socket;
    if (socket === undefined || socket.readyState !== WebSocket.OPEN) {
      settle({
        ok: false,
        error: this.#closedForGood ?? new Error("not connected"),
      });
      return;
    }
    this.#requests.send((text) => socket.send(text), method, params, settle);
  }
}
