/**
 * Tells this node's observers what presence decided: `join` and `leave` to
 * subscriptions with `joinLeave`, batched `occupancy` to those with
 * `occupancy` (SPEC §8). A notice is made once per event and handed to
 * every local observer by the hub, which frames it once per protocol;
 * nothing here runs per broadcast.
 *
 * Occupancy is batched across channels: a changed channel is marked, and one
 * timer flushes every marked channel `OCCUPANCY_INTERVAL_MS` later. A channel
 * thus gets at most one notification per interval, however fast its counts
 * move: a thousand viewers joining in a second make about ten.
 *
 * @module
 */

import type { Notice } from "../protocol/notices.ts";
import type { PresenceEvent } from "../presence/presence.ts";
import type { Hub } from "./hub.ts";

/** What the fan-out counts: notifications handed to observers, by kind. */
export interface PresenceCounters {
  /** Adds `amount` notifications of `kind`. */
  notified(kind: "join" | "leave" | "occupancy", amount: number): void;
}

/** Options of {@linkcode PresenceFanout}. */
export interface PresenceFanoutOptions {
  /** Occupancy goes out at most once per this many ms per channel (`OCCUPANCY_INTERVAL_MS`). */
  readonly intervalMs: number;
  /** What is counted. */
  readonly counters: PresenceCounters;
  /** Epoch ms: when a join or leave was heard of (some protocols show it). */
  readonly clock: () => number;
}

/** The counts of one channel, as last reported and as last notified. */
interface Occupancy {
  connections: number;
  users: number;
  peak: number;
  /** `connections` of the last notification; `undefined` before the first. */
  notified: number | undefined;
  notifiedUsers: number | undefined;
}

/**
 * Presence events in, notification frames out.
 *
 * @example
 * ```ts
 * import { Hub } from "./hub.ts";
 * import { PresenceFanout } from "./presence_fanout.ts";
 *
 * const fanout = new PresenceFanout(new Hub(), {
 *   intervalMs: 100,
 *   counters: { notified: () => {} },
 *   clock: Date.now,
 * });
 * fanout.onEvent({ kind: "join", channel: "room1", user: "alice" });
 * fanout.close();
 * ```
 */
export class PresenceFanout {
  readonly #hub: Hub;
  readonly #intervalMs: number;
  readonly #counters: PresenceCounters;
  readonly #clock: () => number;
  readonly #occupancy = new Map<string, Occupancy>();
  readonly #changed = new Set<string>();
  #flush: ReturnType<typeof setTimeout> | undefined;

  /** Notifies through `hub`; occupancy at most once per `options.intervalMs` per channel. */
  constructor(hub: Hub, options: PresenceFanoutOptions) {
    this.#hub = hub;
    this.#intervalMs = options.intervalMs;
    this.#counters = options.counters;
    this.#clock = options.clock;
  }

  /** One event from the presence store. */
  onEvent(event: PresenceEvent): void {
    switch (event.kind) {
      case "join":
        this.#notify({ ...event, at: this.#clock() }, event.user);
        return;
      case "leave":
        this.#notify({ ...event, at: this.#clock() });
        return;
      case "counts":
        return this.#counted(event);
    }
  }

  /** Stops the batching timer; pending occupancy is not sent. */
  close(): void {
    clearTimeout(this.#flush);
    this.#flush = undefined;
    this.#changed.clear();
    this.#occupancy.clear();
  }

  #counted(event: Extract<PresenceEvent, { kind: "counts" }>): void {
    const { channel, connections, users, peak } = event;
    const known = this.#occupancy.get(channel);
    if (known === undefined) {
      this.#occupancy.set(channel, {
        connections,
        users,
        peak,
        notified: undefined,
        notifiedUsers: undefined,
      });
    } else {
      known.connections = connections;
      known.users = users;
      known.peak = peak;
    }
    this.#changed.add(channel);
    this.#flush ??= setTimeout(() => this.#flushChanged(), this.#intervalMs);
  }

  #flushChanged(): void {
    this.#flush = undefined;
    const changed = [...this.#changed];
    this.#changed.clear();
    for (const channel of changed) {
      const occupancy = this.#occupancy.get(channel);
      if (occupancy === undefined) continue;
      const { connections, users, peak, notified, notifiedUsers } = occupancy;
      if (connections === notified && users === notifiedUsers) continue;
      this.#notify({
        kind: "occupancy",
        channel,
        connections,
        users,
        peak,
        change: connections - (notified ?? 0),
      });
      occupancy.notified = connections;
      occupancy.notifiedUsers = users;
      // Vacated: the next occupant starts a fresh count.
      if (connections === 0) this.#occupancy.delete(channel);
    }
  }

  #notify(
    notice: Extract<Notice, { kind: "join" | "leave" | "occupancy" }>,
    about?: string,
  ): void {
    const observers = this.#hub.notify(
      notice.channel,
      notice,
      notice.kind === "occupancy" ? "occupancy" : "joinLeave",
      about,
    );
    if (observers > 0) this.#counters.notified(notice.kind, observers);
  }
}
