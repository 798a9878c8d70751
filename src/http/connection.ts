/**
 * The shell of one socket: a queue of inputs and an interpreter of effects.
 *
 * Frames, timers and the outcomes of effects go into the reducer one after
 * another; the effects it returns are carried out here, and the outcome of
 * each asynchronous one is reduced before the next input. So a client that
 * sends `auth` and `subscribe` back to back without waiting is answered as
 * if it had waited, and its publishes reach the engine in the order it sent
 * them. Nothing here decides what a client is sent: the reducer does.
 *
 * @module
 */

import type { Recipient } from "../hub/hub.ts";
import { MessageBacklog } from "../hub/message_backlog.ts";
import { type Outbound, OutboundMeter } from "../hub/outbound_meter.ts";
import { log } from "../log.ts";
import { CloseCode } from "../protocol/close_codes.ts";
import type {
  Effect,
  Input,
  Kinded,
  Protocol,
  TimerName,
} from "../protocol/effects.ts";
import { encodeFrame } from "../protocol/frames.ts";
import type { Framing } from "../protocol/notices.ts";
import { isOversized } from "../protocol/size.ts";
import type { ConnectionState } from "../protocol/state.ts";
import type { Controlled } from "./control.ts";
import * as core from "./core_effects.ts";

const logger = log("connection");

/** The kinds of the core's effects (every one: the type says so); any other is a protocol's own. */
const CORE_EFFECTS: Readonly<Record<Effect["kind"], true>> = {
  reply: true,
  send: true,
  verifyToken: true,
  subscribe: true,
  activate: true,
  catchUp: true,
  unsubscribe: true,
  publish: true,
  history: true,
  presence: true,
  trigger: true,
  timer: true,
  measureBacklog: true,
  close: true,
  count: true,
};

function isCoreEffect<E extends Kinded>(effect: Effect | E): effect is Effect {
  return Object.hasOwn(CORE_EFFECTS, effect.kind);
}

/** What every connection of a server shares: the core its effects run against. */
export type ConnectionServices = core.CoreServices;

/** An open connection as the server sees it, whatever its protocol. */
export interface OpenConnection extends Controlled {
  /** The connection id, as in the logs. */
  readonly id: string;
  /** Fires the timers due by `now`. */
  tick(now: number): void;
}

/** Options of one {@linkcode Connection}. */
export interface ConnectionOptions<
  S extends ConnectionState,
  E extends Kinded = never,
  I extends Kinded = never,
> {
  /** The wire protocol it speaks: its reducer and framing. */
  readonly protocol: Protocol<S, E, I>;
  /** The connection's starting state (id, limits, credentials from `?token=`). */
  readonly state: S;
  /** Where the client connects from: for the logs, and its pending count (SPEC §12). */
  readonly remote: string;
  /**
   * The server's open connections: this one is in it until it closes. A
   * shared set rather than a callback, which would cost every idle
   * connection a closure.
   */
  readonly connections: Set<OpenConnection>;
}

/**
 * Runs one WebSocket: feeds its frames to the reducer and performs the effects.
 *
 * @example
 * ```ts
 * import { reduce } from "../protocol/reducer.ts";
 * import type { ConnectionState } from "../protocol/state.ts";
 * import { Connection, type ConnectionServices } from "./connection.ts";
 *
 * function serveSocket(
 *   request: Request,
 *   services: ConnectionServices,
 *   state: ConnectionState,
 * ): Response {
 *   const { socket, response } = Deno.upgradeWebSocket(request);
 *   new Connection(socket, services, {
 *     protocol: { name: "native", reduce, framing: undefined },
 *     state,
 *     remote: "127.0.0.1",
 *     connections: new Set(),
 *   });
 *   return response;
 * }
 * ```
 */
export class Connection<
  S extends ConnectionState,
  E extends Kinded = never,
  I extends Kinded = never,
> implements Recipient, Outbound, OpenConnection {
  readonly #socket: WebSocket;
  readonly #services: ConnectionServices;
  readonly #protocol: Protocol<S, E, I>;
  /** How its protocol frames broadcasts and notices (`undefined`: native); a field, read on the fan-out path. */
  readonly framing: Framing | undefined;
  readonly #connections: Set<OpenConnection>;
  /**
   * When each timer is due (epoch ms). Checked by the server's one ticker
   * ({@linkcode Connection.tick}), not by a `setTimeout` per connection: two
   * timers cost about 2 KiB of heap on every idle connection (README, Performance).
   */
  #tokenExpiringAt = Number.POSITIVE_INFINITY;
  #tokenExpiredAt = Number.POSITIVE_INFINITY;
  #slowConsumerAt = Number.POSITIVE_INFINITY;
  #pingAt = Number.POSITIVE_INFINITY;
  #authTimeoutAt = Number.POSITIVE_INFINITY;
  /**
   * The drain check of a lagging connection, every few tens of ms: a real
   * timer, since the ticker's second would pace catching up, and only a
   * lagging connection has one.
   */
  #drainCheck: ReturnType<typeof setTimeout> | undefined;
  readonly #inbox: (Input | I)[] = [];
  /** Broadcasts waiting, for a protocol that counts its backlog in messages; made when first needed. */
  #backlog: MessageBacklog | undefined;
  readonly #openedAt: number;
  readonly #meter: OutboundMeter;
  #state: S;
  /** Where it connects from: its address's pending count, while unauthenticated. */
  readonly #address: string;
  /** Whom it is counted for (SPEC §12): a user, or its address while pending. */
  #countedAs: string | null = null;
  #pendingCounted = false;
  #draining = false;
  #closed = false;

  /** Takes over `socket`: its frames go to the reducer from now on. */
  constructor(
    socket: WebSocket,
    services: ConnectionServices,
    options: ConnectionOptions<S, E, I>,
  ) {
    this.#socket = socket;
    this.#services = services;
    this.#protocol = options.protocol;
    this.framing = options.protocol.framing;
    this.#state = options.state;
    this.#address = options.remote;
    this.#account();
    this.#connections = options.connections;
    this.#connections.add(this);
    this.#openedAt = services.clock();
    this.#meter = new OutboundMeter(
      options.state.limits.outboundBufferBytes,
      this,
    );
    socket.binaryType = "arraybuffer";
    // Only two handlers: Deno wraps each in closures that every idle connection keeps.
    socket.onmessage = (event) => this.#receive(this.#inputOf(event.data));
    // Deno may fire `close` twice, or (after we closed) never: see #release.
    socket.onclose = (event) =>
      this.#release(
        // Deno reports 0 when the peer vanished without a close frame.
        event.code === 0 ? CloseCode.AbnormalClosure : event.code,
      );
    if (logger.isEnabledFor("info")) {
      logger.info("connection {connectionId} opened from {remote}", {
        connectionId: this.id,
        remote: options.remote,
        protocol: this.#protocol.name,
        authenticated: this.#state.auth !== null,
      });
    }
    // `opened` may send (tokenExpiring), so it waits for the socket to be
    // open; a once-listener is released after it fires, unlike `onopen`.
    socket.addEventListener(
      "open",
      () => this.#receive({ kind: "opened" }),
      { once: true },
    );
  }

  /** The authenticated user (the token's `sub`), or `null` before `auth`. */
  get user(): string | null {
    return this.#state.auth?.subject ?? null;
  }

  /** The connection id, as in the logs and subscription ids. */
  get id(): string {
    return this.#state.connectionId;
  }

  /**
   * Sends a broadcast frame, unless the client is not reading: then it is
   * dropped, and the hub has the subscription catch up from history later.
   */
  deliver(frame: string): boolean {
    // #closed, not readyState: a plain field read on the fan-out path.
    if (this.#closed) return false;
    const protocol = this.#protocol;
    if (protocol.backlog !== undefined) {
      const backlog = this.#queue(frame, protocol.backlog);
      if (protocol.ends?.(frame) === true) {
        // Closed once that last frame is sent, not dropped with what waits.
        backlog.afterDrain(() => this.close(CloseCode.Normal, "stream ended"));
      }
      return true;
    }
    if (this.#meter.admits(frame.length)) {
      this.#socket.send(frame);
      return true;
    }
    this.#services.metrics.dropped.inc();
    return false;
  }

  /**
   * Sends a frame that is never dropped: a reply, or a notification
   * (presence, the server API's), counted against the backlog. Not before
   * the socket is open (a server API notification may come first), nor
   * after it closed.
   */
  notify(frame: string): void {
    if (this.#closed || this.#socket.readyState !== WebSocket.OPEN) return;
    this.#socket.send(frame);
    this.#meter.afterReply(frame.length);
  }

  /** Hands `frame` to the message backlog, made on first use; the backlog. */
  #queue(
    frame: string,
    backlog: NonNullable<Protocol<S, E, I>["backlog"]>,
  ): MessageBacklog {
    const socket = this.#socket;
    this.#backlog ??= new MessageBacklog(
      backlog.messages,
      this.#state.limits.outboundBufferBytes,
      {
        get bufferedAmount(): number {
          return socket.bufferedAmount;
        },
        send: (text) => socket.send(text),
        dropped: (first) => {
          this.#services.metrics.dropped.inc();
          if (first) this.#receive(backlog.overflowed());
        },
      },
    );
    this.#backlog.offer(frame);
    return this.#backlog;
  }

  /** A subscription lags: the reducer watches the backlog drain. */
  lagging(): void {
    this.#receive({ kind: "lagging" });
  }

  /** Unsent bytes of the socket, for the outbound meter. */
  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  /** The outbound meter saw the backlog cross a limit: the reducer decides. */
  onBacklog(bytes: number): void {
    this.#receive({ kind: "backlog", bytes });
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

  /** Fires the timers due by `now`; the server's ticker calls it about once a second. */
  tick(now: number): void {
    // Not before the socket is open: what a timer sends must not be lost.
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    if (now >= this.#tokenExpiringAt) this.#fire("tokenExpiring");
    if (now >= this.#tokenExpiredAt) this.#fire("tokenExpired");
    if (now >= this.#slowConsumerAt) this.#fire("slowConsumer");
    if (now >= this.#pingAt) this.#fire("ping");
    if (now >= this.#authTimeoutAt) this.#fire("authTimeout");
  }

  #fire(name: TimerName): void {
    this.#arm(name, Number.POSITIVE_INFINITY);
    this.#receive({ kind: "timer", name });
  }

  /** Sets timer `name` to `at`, replacing its earlier time. */
  #arm(name: TimerName, at: number): void {
    if (name === "drainCheck") {
      clearTimeout(this.#drainCheck);
      this.#drainCheck = at === Number.POSITIVE_INFINITY
        ? undefined
        : setTimeout(() => {
          this.#drainCheck = undefined;
          this.#receive({ kind: "timer", name });
        }, Math.max(0, at - this.#services.clock()));
    } else if (name === "tokenExpiring") this.#tokenExpiringAt = at;
    else if (name === "tokenExpired") this.#tokenExpiredAt = at;
    else if (name === "ping") this.#pingAt = at;
    else if (name === "authTimeout") this.#authTimeoutAt = at;
    else this.#slowConsumerAt = at;
  }

  /** What a frame is for the reducer; an oversized one's text is not kept. */
  #inputOf(data: unknown): Input {
    if (typeof data !== "string") {
      return {
        kind: "binaryFrame",
        bytes: data instanceof ArrayBuffer
          ? new Uint8Array(data)
          : new Uint8Array(),
      };
    }
    return isOversized(data, this.#state.limits.maxMessageBytes)
      ? { kind: "oversizedFrame" }
      : { kind: "frame", text: data };
  }

  #receive(input: Input | I): void {
    if (this.#closed) return;
    // Only the newest backlog reading matters while one waits its turn.
    if (input.kind === "backlog" && this.#inbox.at(-1)?.kind === "backlog") {
      this.#inbox[this.#inbox.length - 1] = input;
    } else {
      this.#inbox.push(input);
    }
    if (!this.#draining) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      let input: Input | I | undefined;
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

  /**
   * Keeps the admission counts true to the state: a socket counts for its
   * user once authenticated, for its address while it is not.
   */
  #account(): void {
    const user = this.#state.auth?.subject ?? null;
    if (user === this.#countedAs && this.#countedAs !== null) return;
    const admission = this.#services.admission;
    if (this.#countedAs === null) {
      if (user === null && this.#pendingCounted) return;
      if (this.#pendingCounted) admission.countPending(this.#address, -1);
    } else {
      admission.countUser(this.#countedAs, -1);
    }
    this.#pendingCounted = user === null;
    if (user === null) admission.countPending(this.#address, 1);
    else admission.countUser(user, 1);
    this.#countedAs = user;
  }

  /** Releases the admission counts at close, and counts the close. */
  #unaccount(): void {
    const admission = this.#services.admission;
    admission.countClosed();
    if (this.#countedAs !== null) admission.countUser(this.#countedAs, -1);
    else if (this.#pendingCounted) admission.countPending(this.#address, -1);
    this.#countedAs = null;
    this.#pendingCounted = false;
  }

  /** Reduces one input and carries out its effects, each outcome reduced at once. */
  async #step(input: Input | I): Promise<void> {
    const { state, effects } = this.#protocol.reduce(
      this.#state,
      input,
      this.#services.clock(),
    );
    this.#state = state;
    this.#account();
    for (const effect of effects) {
      if (this.#closed) return;
      // Awaited even when synchronous: a close that follows replies without
      // these yields overtakes them in Deno, and the client sees 1006 instead
      // of its code (the rate-limit tests catch it; one yield was not enough).
      const next = await this.#perform(effect);
      if (next !== undefined) await this.#step(next);
    }
  }

  /** Carries out one effect; an asynchronous one resolves to its outcome. */
  #perform(
    effect: Effect | E,
  ): Input | I | undefined | Promise<Input | I | undefined> {
    if (!isCoreEffect(effect)) {
      // The protocol's own effects: its dialect's folder carries them out.
      return this.#protocol.perform?.(effect, this);
    }
    return this.#performCore(effect);
  }

  /** Carries out one of the core's effects. */
  #performCore(effect: Effect): Input | undefined | Promise<Input | undefined> {
    switch (effect.kind) {
      case "reply":
        this.notify(encodeFrame(effect.frame));
        return undefined;
      case "send":
        this.notify(effect.text);
        return undefined;
      case "verifyToken":
        return core.verifyToken(this.#services, effect, this);
      case "subscribe":
        return core.subscribe(this.#services, effect, this);
      case "activate":
        this.#services.hub.start(effect.subscription, effect.start);
        return undefined;
      case "catchUp":
        return core.catchUp(this.#services, effect, this.id);
      case "unsubscribe":
        return core.unsubscribe(this.#services, effect, this.id);
      case "presence":
        return core.presence(this.#services, effect, this.id);
      case "trigger":
        // Not awaited: a slow back-end holds up only this trigger, not the
        // connection's other requests; its outcome is reduced when it comes.
        void core.trigger(this.#services, effect, this.id, this.user ?? "")
          .then((outcome) => this.#receive(outcome));
        return undefined;
      case "publish":
        return core.publish(this.#services, effect, this.id, this.user ?? "");
      case "history":
        return core.history(this.#services, effect, this.id);
      case "timer":
        this.#arm(effect.name, effect.at);
        return undefined;
      case "measureBacklog":
        return { kind: "backlog", bytes: this.#meter.measure() };
      case "close":
        this.close(effect.code, effect.reason);
        return undefined;
      case "count":
        this.#services.metrics[effect.counter].inc();
        return undefined;
    }
  }

  /**
   * Runs once, when either side ends the connection: the reducer ends every
   * subscription, the timers stop, and the close is logged with the code of
   * whoever closed first.
   */
  #release(code: number): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inbox.length = 0;
    clearTimeout(this.#drainCheck);
    this.#backlog?.close();
    this.#unaccount();
    const subscriptions = this.#state.subscriptions.size;
    const { state, effects } = this.#protocol.reduce(
      this.#state,
      { kind: "closed" },
      this.#services.clock(),
    );
    this.#state = state;
    // Only `unsubscribe`: synchronous, and nothing is sent any more.
    for (const effect of effects) void this.#perform(effect);
    this.#connections.delete(this);
    // Deno's WebSocket outlives its close for up to half IDLE_TIMEOUT_SECONDS
    // (its idle timer still holds it): let go of this connection and its
    // state now, so a wave of closes is garbage at once.
    this.#socket.onmessage = null;
    this.#socket.onclose = null;
    if (!logger.isEnabledFor("info")) return;
    logger.info(
      "connection {connectionId} of {user} closed with {code} after {durationMs} ms, subscriptions: {subscriptions}, broadcasts dropped: {dropped}",
      {
        connectionId: this.id,
        user: this.user ?? "nobody (not authenticated)",
        code,
        durationMs: this.#services.clock() - this.#openedAt,
        subscriptions,
        dropped: this.#meter.dropped,
      },
    );
  }
}
