/**
 * The application's side of a client: its subscriptions' callbacks, `ready`
 * promises, `onError` and `onStateChange`, and those waiting for a
 * connection. A callback that throws is reported to the runtime, never to
 * the client's own bookkeeping.
 *
 * @module
 */

import { BroadcasterError, RequestTimeoutError } from "./errors.ts";
import type { ClientCommand, Phase } from "./events.ts";
import type { PresenceNotice } from "./frames.ts";
import type {
  BroadcasterClientOptions,
  BroadcastMessage,
  Notification,
  SubscribeOptions,
} from "./types.ts";

/** One subscription's callbacks. */
interface Handlers {
  readonly generation: number;
  readonly onMessage: (message: BroadcastMessage) => void;
  readonly options: SubscribeOptions;
  readonly settle: (error?: Error) => void;
}

/** A registered subscription, as {@linkcode Listeners.add} returns it. */
export interface Registration {
  /** Numbers the subscription: the core tells it from earlier ones of its channel. */
  readonly generation: number;
  /** Settles when the server first confirms or refuses it. */
  readonly ready: Promise<void>;
  /** Forgets the callbacks; false when they were already replaced or ended. */
  remove(): boolean;
}

/** Calls the application; its exceptions surface, but never break the client. */
function call(callback: () => void): void {
  try {
    callback();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/**
 * Everything of the application's a client calls back.
 *
 * @example
 * ```ts
 * import { Listeners } from "./listeners.ts";
 *
 * const listeners = new Listeners({ onError: (error) => console.error(error) });
 * const { generation } = listeners.add("room1", (message) => console.log(message), {});
 * listeners.ready({ kind: "ready", channel: "room1", generation });
 * ```
 */
export class Listeners {
  readonly #callbacks: Pick<
    BroadcasterClientOptions,
    "onError" | "onStateChange" | "onNotification"
  >;
  readonly #subscriptions = new Map<string, Handlers>();
  readonly #waiters = new Set<() => void>();
  #generations = 0;

  /** Listeners calling back the application's `onError` and `onStateChange`. */
  constructor(
    callbacks: Pick<
      BroadcasterClientOptions,
      "onError" | "onStateChange" | "onNotification"
    >,
  ) {
    this.#callbacks = callbacks;
  }

  /** Registers a subscription's callbacks, replacing the channel's earlier ones. */
  add(
    channel: string,
    onMessage: (message: BroadcastMessage) => void,
    options: SubscribeOptions,
  ): Registration {
    let settle: (error?: Error) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      settle = (error) => error === undefined ? resolve() : reject(error);
    });
    // Handled here too, so an application that never awaits it sees no unhandled rejection.
    ready.catch(() => {});
    const handlers = {
      generation: ++this.#generations,
      onMessage,
      options,
      settle,
    };
    this.#subscriptions.set(channel, handlers);
    return {
      generation: handlers.generation,
      ready,
      remove: () => {
        if (this.#subscriptions.get(channel) !== handlers) return false;
        this.#subscriptions.delete(channel);
        return true;
      },
    };
  }

  /** Hands a message to its subscription's callback (its pattern's, for a pattern subscription). */
  deliver(message: BroadcastMessage): void {
    const handlers = this.#subscriptions.get(
      message.pattern ?? message.channel,
    );
    if (handlers !== undefined) call(() => handlers.onMessage(message));
  }

  /** Missed messages of `channel` cannot be recovered. */
  reset(channel: string): void {
    const onReset = this.#subscriptions.get(channel)?.options.onReset;
    if (onReset !== undefined) call(onReset);
  }

  /** Hands a presence notification to its channel's callback. */
  presence(notice: PresenceNotice): void {
    const options = this.#subscriptions.get(notice.event.channel)?.options;
    if (options === undefined) return;
    switch (notice.kind) {
      case "join": {
        const { onJoin } = options;
        if (onJoin !== undefined) call(() => onJoin(notice.event));
        return;
      }
      case "leave": {
        const { onLeave } = options;
        if (onLeave !== undefined) call(() => onLeave(notice.event));
        return;
      }
      case "occupancy": {
        const { onOccupancy } = options;
        if (onOccupancy !== undefined) call(() => onOccupancy(notice.event));
        return;
      }
    }
  }

  /** Settles a subscription's `ready`; a refusal ends it and is reported. */
  ready(command: Extract<ClientCommand, { kind: "ready" }>): void {
    const handlers = this.#subscriptions.get(command.channel);
    if (handlers?.generation !== command.generation) return;
    if (command.error === undefined) return handlers.settle();
    // Refused (e.g. PermissionDenied): retrying cannot help; the subscription ends.
    this.#subscriptions.delete(command.channel);
    const error = new BroadcasterError(
      command.error.code,
      command.error.message,
    );
    handlers.settle(error);
    this.report(error);
  }

  /** The server ended a subscription the token no longer allows. */
  ended(channel: string): void {
    this.#subscriptions.delete(channel);
    this.report(
      new BroadcasterError("PermissionDenied", `unsubscribed from ${channel}`),
    );
  }

  /** Hands a back-end's notification to the application (`onNotification`). */
  notification(notification: Notification): void {
    const onNotification = this.#callbacks.onNotification;
    if (onNotification !== undefined) call(() => onNotification(notification));
  }

  /** Tells the application of an error (`onError`). */
  report(error: Error): void {
    const onError = this.#callbacks.onError;
    if (onError !== undefined) call(() => onError(error));
  }

  /** The connection's phase changed: wake those waiting, tell the application. */
  phase(phase: Phase): void {
    if (phase === "connected" || phase === "closed") {
      for (const wake of this.#waiters) wake();
      this.#waiters.clear();
    }
    const onStateChange = this.#callbacks.onStateChange;
    if (onStateChange !== undefined) call(() => onStateChange(phase));
  }

  /**
   * Resolves at the next `connected`; rejects with `stopped()` if the client
   * stops instead, or after `timeoutMs`.
   */
  nextConnection(
    timeoutMs: number,
    stopped: () => Error | undefined,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(new RequestTimeoutError("not connected in time"));
      }, timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        const error = stopped();
        if (error !== undefined) reject(error);
        else resolve();
      };
      this.#waiters.add(wake);
    });
  }
}
