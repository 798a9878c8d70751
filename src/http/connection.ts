/**
 * The shell of one socket: frames in → reducer → effects out.
 *
 * Inputs of one connection are reduced strictly one after another, including
 * the asynchronous follow-ups (token verification, publish), so a client that
 * sends `auth` and `subscribe` back to back without waiting is answered as if
 * it had waited, and its publishes reach the engine in the order it sent them.
 *
 * @module
 */

import type { Engine } from "../engine/engine.ts";
import type { TokenVerifier } from "../auth/jwt.ts";
import type { HubEntry, Recipient } from "../hub/hub.ts";
import type { Hub } from "../hub/hub.ts";
import { log } from "../log.ts";
import type { Effect, Input } from "../protocol/effects.ts";
import { errorFrame, resultFrame } from "../protocol/frames.ts";
import { utf8ByteLength } from "../protocol/publication.ts";
import { reduce } from "../protocol/reducer.ts";
import type { ConnectionState } from "../protocol/state.ts";
import { CloseCode } from "../protocol/close_codes.ts";

const logger = log("connection");

/** What every connection of a server shares. */
export interface ConnectionServices {
  readonly hub: Hub;
  readonly engine: Engine;
  readonly verifier: TokenVerifier;
  /** Largest text frame accepted, in UTF-8 bytes (`MAX_MESSAGE_BYTES`). */
  readonly maxMessageBytes: number;
  /** Epoch milliseconds. */
  readonly clock: () => number;
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
export class Connection implements Recipient {
  readonly #socket: WebSocket;
  readonly #services: ConnectionServices;
  readonly #remote: string;
  readonly #onClosed: (connection: Connection) => void;
  readonly #entries = new Map<string, HubEntry>();
  readonly #inbox: Input[] = [];
  readonly #openedAt: number;
  #state: ConnectionState;
  #draining = false;
  #closed = false;
  /** The code this side closed with, if it did: what the log reports. */
  #closeCode: number | undefined;

  constructor(
    socket: WebSocket,
    services: ConnectionServices,
    options: ConnectionOptions,
  ) {
    this.#socket = socket;
    this.#services = services;
    this.#state = options.state;
    this.#remote = options.remote;
    this.#onClosed = options.onClosed;
    this.#openedAt = services.clock();
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      logger.info("connection {connectionId} opened from {remote}", {
        connectionId: this.id,
        remote: this.#remote,
        authenticated: this.#state.auth !== null,
      });
    };
    socket.onmessage = (event) => this.#onMessage(event);
    socket.onclose = (event) => this.#onClose(event.code);
    // An error is always followed by close; nothing to do but not crash.
    socket.onerror = () => {};
  }

  /** The connection id, as in the logs and subscription ids. */
  get id(): string {
    return this.#state.connectionId;
  }

  /** Sends a broadcast frame; silently skipped once the socket is closing. */
  deliver(frame: string): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.send(frame);
  }

  /** Closes the socket (e.g. with 1001 at shutdown); harmless when already closed. */
  close(code: number, reason: string): void {
    if (this.#socket.readyState <= WebSocket.OPEN) {
      this.#closeCode ??= code;
      this.#socket.close(code, reason);
    }
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
      this.close(
        CloseCode.MessageTooBig,
        `frame over ${limit} bytes`,
      );
      return;
    }
    this.#inbox.push({ kind: "frame", text: data });
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
        this.deliver(JSON.stringify(effect.frame));
        return undefined;
      case "verifyToken": {
        const outcome = await this.#services.verifier.verify(
          effect.token,
          this.#services.clock(),
        );
        if (!outcome.ok) {
          logger.info("connection {connectionId} auth refused: {reason}", {
            connectionId: this.id,
            reason: outcome.reason,
          });
        }
        return { kind: "tokenVerified", requestId: effect.requestId, outcome };
      }
      case "subscribe": {
        if (this.#closed) return undefined;
        const { subscription, requestId, timestamp } = effect;
        this.#entries.set(
          subscription.id,
          this.#services.hub.add(subscription, this),
        );
        if (requestId !== undefined) {
          this.deliver(JSON.stringify(
            resultFrame(requestId, {
              subscriptionId: subscription.id,
              timestamp,
            }),
          ));
        }
        return undefined;
      }
      case "unsubscribe": {
        const entry = this.#entries.get(effect.subscription.id);
        if (entry !== undefined) {
          this.#services.hub.remove(entry);
          this.#entries.delete(effect.subscription.id);
        }
        return undefined;
      }
      case "publish":
        await this.#publish(effect.message, effect.requestId);
        return undefined;
      case "close":
        this.close(effect.code, effect.reason);
        return undefined;
    }
  }

  async #publish(
    message: Parameters<Engine["publish"]>[0],
    requestId: number | undefined,
  ): Promise<void> {
    try {
      const accepted = await this.#services.engine.publish(message);
      if (requestId !== undefined) {
        this.deliver(JSON.stringify(
          resultFrame(requestId, {
            id: accepted.id,
            createTime: accepted.createTime,
          }),
        ));
      }
    } catch (error) {
      logger.warning("connection {connectionId} publish failed: {error}", {
        connectionId: this.id,
        error: String(error),
      });
      this.deliver(JSON.stringify(errorFrame(requestId, {
        code: "Internal",
        message: "publish failed: the engine is unavailable, try again",
      })));
    }
  }

  /**
   * Deno may fire `close` twice; everything here runs once. The code logged
   * is ours when we closed (the peer's echo often carries none).
   */
  #onClose(peerCode: number): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inbox.length = 0;
    const subscriptions = this.#entries.size;
    for (const entry of this.#entries.values()) {
      this.#services.hub.remove(entry);
    }
    this.#entries.clear();
    logger.info(
      "connection {connectionId} closed with {code} after {durationMs} ms, {subscriptions} subscriptions",
      {
        connectionId: this.id,
        // Deno reports 0 when the peer vanished without a close frame.
        code: this.#closeCode ??
          (peerCode === 0 ? CloseCode.AbnormalClosure : peerCode),
        durationMs: this.#services.clock() - this.#openedAt,
        subscriptions,
      },
    );
    this.#onClosed(this);
  }
}
