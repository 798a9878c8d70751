/**
 * The Broadcaster client: connects, authenticates, subscribes, and keeps
 * doing so across flaky networks, so the application sees every message
 * exactly once and in order. Zero dependencies; browsers, Deno, Node ≥ 22.
 *
 * It reconnects with backoff, resubscribes with `since` and recovers `seq`
 * gaps, calls `onReset` when the server cannot replay, refreshes its token
 * when warned, and follows the close codes (README, Client SDK).
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
import {
  type IncomingFrame,
  presenceResultOf,
  presenceStatsOf,
} from "./frames.ts";
import { Listeners } from "./listeners.ts";
import * as operations from "./operations.ts";
import { Requests, type Settle } from "./requests.ts";
import { Transport } from "./transport.ts";
import type {
  BroadcasterClientOptions,
  BroadcastMessage,
  ConnectionState,
  SubscribeOptions,
  Subscription,
} from "./types.ts";

export { BroadcasterError, ClientClosedError, RequestTimeoutError };
/** The SDK's public types: options, subscriptions, messages, presence. */
export type * from "./types.ts";

/** A Broadcaster connection that survives network failures (see the module doc). */
export class BroadcasterClient {
  readonly #options: BroadcasterClientOptions;
  readonly #backoff: BackoffOptions;
  readonly #requests: Requests;
  readonly #listeners: Listeners;
  readonly #queue: ClientEvent[] = [];
  #core: ClientState = INITIAL_STATE;
  #dispatching = false;
  #transport: Transport | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** Retries of subscribes the server could not serve (`Internal`). */
  readonly #retries = new Set<ReturnType<typeof setTimeout>>();
  #closedForGood: Error | undefined;

  /** Sends a request on the current connection: what operations send with. */
  readonly #send: operations.RequestFn = (method, params, settle) =>
    this.#request(method, params, settle);

  /** Starts connecting at once; see {@linkcode BroadcasterClientOptions}. */
  constructor(options: BroadcasterClientOptions) {
    this.#options = options;
    this.#backoff = {
      initialBackoffMs: options.initialBackoffMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      minBackoffMs: options.minBackoffMs ?? 100,
    };
    this.#requests = new Requests(options.requestTimeoutMs ?? 10_000);
    this.#listeners = new Listeners(options);
    // The first state is told too; after the constructor has returned, so
    // the callback may use the client.
    queueMicrotask(() => {
      if (this.#core.phase === "connecting") {
        this.#listeners.phase("connecting");
      }
    });
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
    const registration = this.#listeners.add(channel, onMessage, options);
    const { generation, ready } = registration;
    this.#dispatch({
      kind: "subscribeAsked",
      channel,
      generation,
      wishes: {
        joinLeave: options.onJoin !== undefined ||
          options.onLeave !== undefined,
        occupancy: options.onOccupancy !== undefined,
      },
    });
    return {
      channel,
      ready,
      unsubscribe: () => {
        if (!registration.remove()) return;
        this.#dispatch({ kind: "unsubscribeAsked", channel, generation });
      },
      presence: async () =>
        presenceResultOf(await this.#call("presence", { channel })),
      presenceStats: async () =>
        presenceStatsOf(await this.#call("presenceStats", { channel })),
    };
  }

  /** Publishes (the token needs the `publish` scope); waits for a connection if there is none yet. */
  async publish(
    channel: string,
    event: string,
    payload: unknown,
  ): Promise<{ id: string; createTime: string }> {
    const result = await this.#call("publish", { channel, event, payload });
    return { id: String(result.id), createTime: String(result.createTime) };
  }

  /** Closes for good: no reconnect, no timer left behind. */
  close(): Promise<void> {
    this.#closedForGood ??= new ClientClosedError("client closed");
    // Detached first: nothing that settles below may act on this socket.
    const transport = this.#transport;
    this.#transport = undefined;
    // Closed here, not by a command: close() may be called from a callback,
    // while the core's commands wait their turn.
    const closed = transport?.close(1000) ?? Promise.resolve();
    this.#dispatch({ kind: "closeAsked" });
    this.#requests.failAll(this.#closedForGood);
    return closed;
  }

  /** A request once connected; its result, or the server's refusal as an error. */
  async #call(
    method: string,
    params: unknown,
  ): Promise<Readonly<Record<string, unknown>>> {
    await this.#connected();
    return await new Promise((resolve, reject) =>
      this.#request(method, params, (answer) => {
        if (answer.ok) resolve(answer.result);
        else reject(answer.error);
      })
    );
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
    switch (command.kind) {
      case "connect":
        return this.#connect();
      case "authenticate":
        return operations.authenticate(
          this.#send,
          this.#options.token,
          this.#outcomeOn(this.#transport),
        );
      case "subscribe":
        return operations.subscribe(
          this.#send,
          command,
          this.#outcomeOn(this.#transport),
          () =>
            this.#core.channels.get(command.channel)?.generation ===
              command.generation,
        );
      case "unsubscribe":
        return this.#request(
          "unsubscribe",
          { channel: command.channel },
          () => {},
        );
      case "retrySubscribe": {
        const retry = setTimeout(() => {
          this.#retries.delete(retry);
          this.#dispatch({
            kind: "subscribeRetryDue",
            channel: command.channel,
            generation: command.generation,
          });
        }, command.delayMs);
        this.#retries.add(retry);
        return;
      }
      case "deliver":
        return this.#listeners.deliver(command.message);
      case "presence":
        return this.#listeners.presence(command.notice);
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
      case "stopTimers":
        clearTimeout(this.#reconnectTimer);
        for (const retry of this.#retries) clearTimeout(retry);
        this.#retries.clear();
        return;
      case "closeSocket":
        return void this.#transport?.close(command.code);
      case "fatal":
        return this.#stop(new ClientClosedError(command.why));
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
    try {
      const transport: Transport = new Transport(this.#options.url, {
        opened: () => this.#on(transport, { kind: "opened" }),
        frame: (frame) => this.#onFrame(transport, frame),
        closed: (code, reason) => {
          if (transport !== this.#transport) return;
          this.#transport = undefined;
          this.#requests.failAll(new Error(`connection closed (${code})`));
          this.#dispatch({
            kind: "closed",
            code,
            reason,
            jitter: Math.random(),
          });
        },
      });
      this.#transport = transport;
    } catch (error) {
      this.#stop(error instanceof Error ? error : new Error(String(error)));
      this.#dispatch({ kind: "connectFailed" });
    }
  }

  /**
   * Where an operation on `transport` reports its outcome: dispatched if it
   * is still the current one, a failure's reason reported.
   */
  #outcomeOn(
    transport: Transport | undefined,
  ): (outcome: operations.Outcome) => void {
    return ({ event, error }) => {
      if (transport === undefined || transport !== this.#transport) return;
      if (error !== undefined) this.#listeners.report(error);
      if (event !== null) this.#dispatch(event);
    };
  }

  /** Dispatches `event` if it comes from the current transport. */
  #on(transport: Transport, event: ClientEvent): void {
    if (transport === this.#transport) this.#dispatch(event);
  }

  #onFrame(transport: Transport, frame: IncomingFrame): void {
    if (transport !== this.#transport) return;
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
      case "presence":
        return this.#dispatch({ kind: "presence", notice: frame.notice });
      case "notification":
        return this.#listeners.notification(frame.notification);
    }
  }

  #request(method: string, params: unknown, settle: Settle): void {
    const transport = this.#transport;
    if (transport === undefined || !transport.open) {
      settle({
        ok: false,
        error: this.#closedForGood ?? new Error("not connected"),
      });
      return;
    }
    this.#requests.send((text) => transport.send(text), method, params, settle);
  }
}
