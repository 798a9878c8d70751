/**
 * Where messages live and travel. An engine gives a message its id and time,
 * keeps it, and has it delivered to the hub of every node that listens.
 *
 * `memory` (one process) is the default; `redis` (several nodes) implements
 * the same interface, so the connection shell and REST never know which runs.
 *
 * @module
 */

import type { Notice } from "../protocol/notices.ts";
import type { EngineFailure } from "../protocol/engine_failure.ts";
import type { Message, NewMessage } from "../protocol/message.ts";
import type { StreamPosition, StreamRead } from "../protocol/position.ts";

/** Thrown by an engine that cannot accept a publish right now (e.g. Redis unreachable). */
export class EngineUnavailableError extends Error {
  /** Always `EngineUnavailableError`. */
  override readonly name = "EngineUnavailableError";
}

/**
 * How long a channel's epoch and offset outlive its last publish or read
 * (a day, or `HISTORY_TTL_SECONDS` if longer). A client that comes back to
 * a quiet channel within it recovers (nothing was missed) instead of being
 * told to reset because the stream forgot where it stood.
 */
export const STREAM_META_TTL_MS = 86_400_000;

/** The engine every node runs on. */
export interface Engine {
  /**
   * Accepts a message: gives it a unique id and its creation time, stores it,
   * and has it delivered to every node's hub. Rejects with
   * {@linkcode EngineUnavailableError} when it cannot, so nothing vanishes
   * silently.
   */
  publish(message: NewMessage): Promise<Message>;
  /**
   * The channel's most recent messages still in history, at most `limit`,
   * oldest first.
   */
  history(channel: string, limit: number): Promise<readonly Message[]>;
  /**
   * Where `channel`'s stream stands now (giving it an epoch if it has none)
   * and, with `since`, the messages after it still in history: at most
   * `limit`, oldest first, in one atomic step, so the position and the
   * messages agree. See {@linkcode StreamRead}.
   */
  read(
    channel: string,
    since: StreamPosition | null,
    limit: number,
  ): Promise<StreamRead>;
  /**
   * The latest message of each event `channel` keeps (see
   * {@linkcode KeepsLatest}), oldest first: a live stream's
   * `stream_started`, its last `quality_changed`. Kept as long as the
   * channel's position (a day after its last publish or read), beyond
   * history. Empty for a channel that keeps none.
   */
  latest(channel: string): Promise<readonly Message[]>;
  /**
   * Whether `channel` has a stream: something was published to it or
   * someone subscribed to it (a subscribe reads its position), within its
   * position's lifetime (a day after its last use). Never creates one.
   */
  exists(channel: string): Promise<boolean>;
  /**
   * Resolves once every message of `channel` published from now on will
   * reach this node's hub. Idempotent; the shell awaits it on every subscribe.
   */
  listen(channel: string): Promise<void>;
  /** This node has no subscriber of `channel` any more. */
  unlisten(channel: string): void;
  /**
   * Resolves once every message of a channel matching `pattern` published
   * from now on will reach this node's hub (SPEC §9). Idempotent.
   */
  listenPattern(pattern: string): Promise<void>;
  /** This node has no subscription of `pattern` any more. */
  unlistenPattern(pattern: string): void;
  /**
   * Has every node (this one included) carry out `command` (SPEC §9's
   * server API): once each, not stored. Rejects with
   * {@linkcode EngineUnavailableError} when it cannot be sent.
   */
  control(command: ControlCommand): Promise<void>;
  /**
   * Resolves once the engine can serve, or after `timeoutMs` if it cannot yet
   * (it keeps trying on its own): a node starts serving either way.
   */
  start(timeoutMs: number): Promise<void>;
  /** True while the engine can accept publishes (`/health`). */
  readonly healthy: boolean;
  /** Releases what the engine holds; publishes after it are refused. */
  close(): Promise<void>;
}

/** A channel's history settings (its namespace's, SPEC §10). */
export interface HistorySettings {
  /** Messages kept. */
  readonly historySize: number;
  /** For how long, in seconds. */
  readonly historyTtlSeconds: number;
}

/** The server API's `/notify`, as it travels to every node. */
export type NotificationNotice = Extract<Notice, { kind: "notification" }>;

/**
 * Whether `channel` keeps its latest message of `event` (beyond history):
 * asked on every publish, so it must be cheap.
 */
export type KeepsLatest = (channel: string, event: string) => boolean;

/** What the server API asks of every node. */
export type ControlCommand =
  /** Send `notice` to every authenticated connection, or those of `users`. */
  | {
    readonly kind: "notify";
    readonly notice: NotificationNotice;
    readonly users?: readonly string[];
  }
  /** Close every connection of `user` with 4003 and `reason`. */
  | {
    readonly kind: "disconnect";
    readonly user: string;
    readonly reason: string;
  };

/** Carries out a {@linkcode ControlCommand} on this node. */
export type ControlHandler = (command: ControlCommand) => void;

/** Receives every message the engine accepts, in order: the node's hub. */
export type Deliver = (message: Message) => void;

/**
 * Where a cluster engine delivers: a channel's subscribers and the pattern
 * subscriptions apart, since it hears of a message once per subscription
 * kind (and once per pattern glob, `glob`).
 */
export interface ClusterDelivery {
  /** To the subscribers of the message's channel. */
  toChannel(message: Message): void;
  /** To the pattern subscriptions with glob `glob` that the message matches. */
  toPatterns(message: Message, glob: string): void;
}

/**
 * What a client is told of an engine's failure, from what it threw: the
 * cause itself is for the logs only.
 *
 * @example
 * ```ts
 * import { EngineUnavailableError, failureOf } from "./engine.ts";
 *
 * failureOf(new EngineUnavailableError("redis is down")); // "unavailable"
 * failureOf(new TypeError("a bug")); // "failed"
 * ```
 */
export function failureOf(error: unknown): EngineFailure {
  return error instanceof EngineUnavailableError ? "unavailable" : "failed";
}
