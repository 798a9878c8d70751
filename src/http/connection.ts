/**
 * The shell of one socket: frames in → reducer → effects out.
 *
 * Inputs of one connection (frames, timers, and the asynchronous follow-ups
 * of token verification) are reduced strictly one after another, so a client
 * that sends `auth` and `subscribe` back to back without waiting is answered
 * as if it had waited, and its publishes reach the engine in the order it
 * sent them.
 *
 * @module
 */

import type { Engine } from "../engine/engine.ts";
import type { TokenVerifier } from "../auth/jwt.ts";
import type { Hub, HubEntry, Recipient } from "../hub/hub.ts";
import {
  type Outbound,
  SlowConsumerPolicy,
  type SlowConsumerSettings,
} from "../hub/slow_consumer.ts";
import { log } from "../log.ts";
import type { ServerMetrics } from "../metrics/server_metrics.ts";
import { CloseCode } from "../protocol/close_codes.ts";
import type { Effect, Input, TimerName } from "../protocol/effects.ts";
import {
  errorFrame,
  resultFrame,
  type ServerFrame,
} from "../protocol/frames.ts";
import {
  type Message,
  messagesJson,
  type NewMessage,
} from "../protocol/message.ts";
import { utf8ByteLength } from "../protocol/publication.ts";
import { reduce } from "../protocol/reducer.ts";
import type { ConnectionState, Subscription } from "../protocol/state.ts";

const logger = log("connection");

/** What every connection of a server shares. */
export interface ConnectionServices {
  readonly hub: Hub;
  readonly engine: Engine;
  readonly verifier: TokenVerifier;
  /** Largest text frame accepted, in UTF-8 bytes (`MAX_MESSAGE_BYTES`). */
  readonly maxMessageBytes: number;
  /** The slow-consumer policy's settings (`OUTBOUND_BUFFER_BYTES`), one object for all. */
  readonly outbound: SlowConsumerSettings;
  /** Epoch milliseconds. */
  readonly clock: () => number;
  readonly metrics: ServerMetrics;
}

/** Options of one {@linkcode Connection}. */
export interface ConnectionOptions {
  /** The connection's starting state (id, limits, credentials from `?token=`). */
  readonly state: ConnectionState;
  /** Where the client connects from, for the logs. */
  readonly remote: string;
  /** Called once, when the socket has closed. */
  readonly onClosed: (connection: Connection) => void;
}

/**
 * Runs one WebSocket: feeds its frames to the reducer and performs the effects.
 *
 * @example
 * ```ts
 * const { socket, response } = Deno.upgradeWebSocket(request);
 * new Connection(socket, services, { state, remote: "127.0.0.1", onClosed: () => {} });
 * return response;
 * ```
 */
export class Connection implements Recipient, Outbound {
  readonly #socket: WebSocket;
  readonly #services: ConnectionServices;
  readonly #onClosed: (connection: Connection) => void;
  readonly #entries = new Map<string, HubEntry>();
  /**
   * When each timer is due (epoch ms). Checked by the server's one ticker
   * ({@linkcode Connection.tick}), not by a `setTimeout` per connection: two
   * timers cost about 2 KiB of heap on every idle connection (README, Performance).
   */
  #tokenExpiringAt = Number.POSITIVE_INFINITY;
  #tokenExpiredAt = Number.POSITIVE_INFINITY;
  readonly #inbox: Input[] = [];
  readonly #openedAt: number;
  readonly #outbound: SlowConsumerPolicy;
  #state: ConnectionState;
  #draining = false;
  #closed = false;

  constructor(
    socket: WebSocket,
    services: ConnectionServices,
    options: ConnectionOptions,
  ) {
    this.#socket = socket;
    this.#services = services;
    this.#state = options.state;
    this.#onClosed = options.onClosed;
    this.#openedAt = services.clock();
    this.#outbound = new SlowConsumerPolicy(services.outbound, this);
    socket.binaryType = "arraybuffer";
    // Only two handlers: Deno wraps each in closures that every idle connection keeps.
    socket.onmessage = (event) => this.#onMessage(event);
    // Deno may fire `close` twice, or (after we closed) never: see #release.
    socket.onclose = (event) =>
      this.#release(
        // Deno reports 0 when the peer vanished without a close frame.
        event.code === 0 ? CloseCode.AbnormalClosure : event.code,
      );
    logger.info("connection {connectionId} opened from {remote}", {
      connectionId: this.id,
      remote: options.remote,
      authenticated: this.#state.auth !== null,
    });
    // `opened` may send (tokenExpiring), so it waits for the socket to be
    // open; a once-listener is released after it fires, unlike `onopen`.
    socket.addEventListener(
      "open",
      () => this.#receive({ kind: "opened" }),
      { once: true },
    );
  }

  /** The connection id, as in the logs and subscription ids. */
  get id(): string {
    return this.#state.connectionId;
  }

  /**
   * Sends a broadcast frame, unless the client is not reading: then it is
   * dropped (its `seq` is already counted, so the client sees the gap).
   */
  deliver(frame: string): void {
    // #closed, not readyState: a plain field read on the fan-out path.
    if (this.#closed) return;
    if (this.#outbound.admits(frame.length)) this.#socket.send(frame);
    else this.#services.metrics.dropped.inc();
  }

  /** Unsent bytes of the socket, for the slow-consumer policy. */
  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  /** Closes this connection as a slow consumer (1013). */
  closeSlow(reason: string): void {
    this.#services.metrics.slowConsumerDisconnects.inc();
    this.close(CloseCode.TryAgainLater, reason);
  }

  /**
   * Closes the socket (e.g. with 1001 at shutdown) and releases everything at
   * once: a peer that reads nothing never completes the close handshake, and
   * Deno fires `close` only then. Harmless when already closed.
   */
  close(code: number, reason: string): void {
    if (this.#socket.readyState <= WebSocket.OPEN) {
      try {
        this.#socket.close(code, reason);
      } catch (error) {
        // A socket still being set up may refuse; it is released all the same.
        logger.debug("connection {connectionId} close refused: {error}", {
          connectionId: this.id,
          error: String(error),
        });
      }
    }
    this.#release(code);
  }

  /** Sends a reply: never dropped, but a client that reads none is closed. */
  #reply(text: string): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    this.#socket.send(text);
    this.#outbound.afterReply(text.length);
  }

  #send(frame: ServerFrame): void {
    this.#reply(JSON.stringify(frame));
  }

  #onMessage(event: MessageEvent): void {
    if (this.#closed) return;
    const data: unknown = event.data;
    if (typeof data !== "string") {
      this.close(CloseCode.UnsupportedData, "binary frames are not supported");
      return;
    }
    const limit = this.#services.maxMessageBytes;
    // UTF-16 length ≤ UTF-8 bytes ≤ 3 × length: count only when it could matter.
    if (
      data.length > limit ||
      (data.length * 3 > limit && utf8ByteLength(data) > limit)
    ) {
      this.close(CloseCode.MessageTooBig, `frame over ${limit} bytes`);
      return;
    }
    this.#receive({ kind: "frame", text: data });
  }

  #receive(input: Input): void {
    if (this.#closed) return;
    this.#inbox.push(input);
    if (!this.#draining) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      let input: Input | undefined;
      while (!this.#closed && (input = this.#inbox.shift()) !== undefined) {
        await this.#step(input);
      }
    } catch (error) {
      // Only a bug gets here: log it for us, close politely for the client.
      logger.error("connection {connectionId} failed: {error}", {
        connectionId: this.id,
        error,
      });
      this.close(CloseCode.InternalError, "internal error");
    } finally {
      this.#draining = false;
    }
  }

  async #step(input: Input): Promise<void> {
    const { state, effects } = reduce(
      this.#state,
      input,
      this.#services.clock(),
    );
    this.#state = state;
    for (const effect of effects) {
      const next = await this.#perform(effect);
      if (next !== undefined) await this.#step(next);
    }
  }

  async #perform(effect: Effect): Promise<Input | undefined> {
    switch (effect.kind) {
      case "reply":
        this.#send(effect.frame);
        return undefined;
      case "verifyToken":
        return await this.#verify(effect.token, effect.requestId);
      case "subscribe":
        await this.#subscribe(effect);
        return undefined;
      case "unsubscribe":
        this.#unsubscribe(effect.subscription);
        return undefined;
      case "publish":
        await this.#publish(effect.message, effect.requestId);
        return undefined;
      case "history":
        await this.#history(effect.channel, effect.limit, effect.requestId);
        return undefined;
      case "timer":
        this.#arm(effect.name, effect.at);
        return undefined;
      case "close":
        this.close(effect.code, effect.reason);
        return undefined;
      case "count":
        this.#services.metrics.rateLimited.inc();
        return undefined;
    }
  }

  async #verify(token: string, requestId: number | undefined): Promise<Input> {
    const outcome = await this.#services.verifier.verify(
      token,
      this.#services.clock(),
    );
    if (!outcome.ok) {
      this.#services.metrics.authFailures.inc({ reason: outcome.reason });
      logger.info("connection {connectionId} auth refused: {reason}", {
        connectionId: this.id,
        reason: outcome.reason,
      });
    }
    return { kind: "tokenVerified", requestId, outcome };
  }

  /**
   * Registers with the hub first, holding live messages back; waits until the
   * engine delivers the channel here; with `since`, reads what came after it;
   * answers; then replays and releases what was held back. Nothing published
   * after the answer can be missed, nothing arrives before it, and with
   * `since` nothing is lost or repeated.
   */
  async #subscribe(
    effect: Extract<Effect, { kind: "subscribe" }>,
  ): Promise<void> {
    if (this.#closed) return;
    const { subscription, requestId, timestamp, since } = effect;
    const { hub, engine } = this.#services;
    const entry = hub.add(subscription, this, { recovering: true });
    this.#entries.set(subscription.id, entry);
    let replay: readonly Message[] | null = null;
    try {
      await engine.listen(subscription.channel);
      if (since !== undefined) {
        replay = await engine.since(subscription.channel, since);
      }
    } catch (error) {
      // Without history the client must reload its state: say so, do not fail.
      logger.warning("connection {connectionId} subscribe degraded: {error}", {
        connectionId: this.id,
        error: String(error),
      });
    }
    if (requestId !== undefined) {
      const result = since === undefined
        ? { subscriptionId: subscription.id, timestamp }
        : {
          subscriptionId: subscription.id,
          timestamp,
          recovered: replay !== null,
        };
      this.#send(resultFrame(requestId, result));
    }
    hub.activate(entry, replay ?? []);
  }

  #unsubscribe(subscription: Subscription): void {
    const entry = this.#entries.get(subscription.id);
    if (entry === undefined) return;
    this.#services.hub.remove(entry);
    this.#entries.delete(subscription.id);
  }

  async #publish(
    message: NewMessage,
    requestId: number | undefined,
  ): Promise<void> {
    try {
      const { engine, metrics } = this.#services;
      const accepted = await metrics.publish(engine, message, "websocket");
      if (requestId !== undefined) {
        this.#send(resultFrame(requestId, {
          id: accepted.id,
          createTime: accepted.createTime,
        }));
      }
    } catch (error) {
      this.#engineFailed("publish failed", requestId, error);
    }
  }

  async #history(
    channel: string,
    limit: number,
    requestId: number,
  ): Promise<void> {
    try {
      const messages = await this.#services.engine.history(channel, limit);
      this.#reply(
        `{"requestId":${requestId},"result":${messagesJson(messages)}}`,
      );
    } catch (error) {
      this.#engineFailed("history unavailable", requestId, error);
    }
  }

  /** The engine failed a request: the client gets `Internal` saying so, we get the cause. */
  #engineFailed(
    what: string,
    requestId: number | undefined,
    error: unknown,
  ): void {
    logger.warning("connection {connectionId}: {what}: {error}", {
      connectionId: this.id,
      what,
      error: String(error),
    });
    this.#send(errorFrame(requestId, {
      code: "Internal",
      message: `${what}: the engine is unavailable, try again`,
    }));
  }

  /** Sets timer `name` to `at`, replacing its earlier time. */
  #arm(name: TimerName, at: number): void {
    if (name === "tokenExpiring") this.#tokenExpiringAt = at;
    else this.#tokenExpiredAt = at;
  }

  /** Fires the timers due by `now`; the server's ticker calls it about once a second. */
  tick(now: number): void {
    // Not before the socket is open: what a timer sends must not be lost.
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    if (now >= this.#tokenExpiringAt) {
      this.#tokenExpiringAt = Number.POSITIVE_INFINITY;
      this.#receive({ kind: "timer", name: "tokenExpiring" });
    }
    if (now >= this.#tokenExpiredAt) {
      this.#tokenExpiredAt = Number.POSITIVE_INFINITY;
      this.#receive({ kind: "timer", name: "tokenExpired" });
    }
  }

  /**
   * Runs once, when either side ends the connection: leaves the hub, stops
   * the timers, logs why (the code of whoever closed first).
   */
  #release(code: number): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inbox.length = 0;
    this.#outbound.stop();
    const subscriptions = this.#entries.size;
    for (const entry of this.#entries.values()) {
      this.#services.hub.remove(entry);
    }
    this.#entries.clear();
    logger.info(
      "connection {connectionId} closed with {code} after {durationMs} ms, {subscriptions} subscriptions, {dropped} broadcasts dropped",
      {
        connectionId: this.id,
        code,
        durationMs: this.#services.clock() - this.#openedAt,
        subscriptions,
        dropped: this.#outbound.dropped,
      },
    );
    this.#onClosed(this);
  }
}
