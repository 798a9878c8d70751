/**
 * Tells this node's observers what presence decided: `join` and `leave` to
 * subscriptions with `joinLeave`, batched `occupancy` to those with
 * `occupancy` (SPEC §8). A frame is built once per event and handed to
 * every local observer by the hub; nothing here runs per broadcast.
 *
 * Occupancy is batched across channels: a changed channel is marked, and one
 * timer flushes every marked channel `OCCUPANCY_INTERVAL_MS` later. A channel
 * thus gets at most one notification per interval, however fast its counts
 * move: a thousand viewers joining in a second make about ten.
 *
 * @module
 */

import type { PresenceEvent } from "../presence/presence.ts";
import type { Hub } from "./hub.ts";

/** What the fan-out counts: notifications handed to observers, by kind. */
export interface PresenceCounters {
  /** Adds `amount` notifications of `kind`. */
  notified(kind: "join" | "leave" | "occupancy", amount: number): void;
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
 * const fanout = new PresenceFanout(new Hub(), 100, { notified: () => {} });
 * fanout.onEvent({ kind: "join", channel: "room1", user: "alice" });
 * fanout.close();
 * ```
 */
export class PresenceFanout {
  readonly #hub: Hub;
  readonly #intervalMs: number;
  readonly #counters: PresenceCounters;
  readonly #occupancy = new Map<string, Occupancy>();
  readonly #changed = new Set<string>();
  #flush: ReturnType<typeof setTimeout> | undefined;

  /** Notifies through `hub`; occupancy at most once per `intervalMs` per channel. */
  constructor(hub: Hub, intervalMs: number, counters: PresenceCounters) {
    this.#hub = hub;
    this.#intervalMs = intervalMs;
    this.#counters = counters;
  }

  /** One event from the presence store. */
  onEvent(event: PresenceEvent): void {
    switch (event.kind) {
      case "join": {
        const info = event.info === undefined ? "" : `,"info":${event.info}`;
        this.#notify(
          "join",
          event.channel,
          `{"method":"join","params":{"channel":${
            JSON.stringify(event.channel)
          },"user":${JSON.stringify(event.user)}${info}}}`,
          event.user,
        );
        return;
      }
      case "leave":
        this.#notify(
          "leave",
          event.channel,
          `{"method":"leave","params":{"channel":${
            JSON.stringify(event.channel)
          },"user":${JSON.stringify(event.user)}}}`,
        );
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
      this.#notify(
        "occupancy",
        channel,
        `{"method":"occupancy","params":{"channel":${
          JSON.stringify(channel)
        },"connections":${connections},"users":${users},"peak":${peak},"change":${
          connections - (notified ?? 0)
        }}}`,
      );
      occupancy.notified = connections;
      occupancy.notifiedUsers = users;
      // Vacated: the next occupant starts a fresh count.
      if (connections === 0) this.#occupancy.delete(channel);
    }
  }

  #notify(
    kind: "join" | "leave" | "occupancy",
    channel: string,
    frame: string,
    about?: string,
  ): void {
    const observers = this.#hub.notify(
      channel,
      frame,
      kind === "occupancy" ? "occupancy" : "joinLeave",
      about,
    );
    if (observers > 0) this.#counters.notified(kind, observers);
  }
}
