/**
 * Presence shared through Redis (`ENGINE=redis`): counts and members are the
 * same on every node, and each transition is decided once, inside a script
 * (`redis_scripts.ts`), and published to the nodes that listen.
 *
 * A node refreshes its own members every 15 s; a member whose node stops
 * (`kill -9`) expires 40 s after its last refresh (queries stop counting
 * it then) and is swept, its user's `leave` sent, by the next refresh of
 * any node in that channel: gone within 55 s, under the 60 s of the spec. A `leave` is due a delay after the last connection went:
 * the node that saw it go publishes it when the delay is over (any other
 * node does, at its next write or read of that channel, if that node died).
 *
 * @module
 */

import type { Redis } from "ioredis";
import {
  connect,
  unavailableUnless,
  waitForRedis,
} from "../engine/redis_connections.ts";
import { log } from "../log.ts";
import { memberJson } from "../protocol/presence.ts";
import type {
  ChannelCount,
  Member,
  PresenceCounts,
  PresenceEvent,
  PresenceListener,
  PresenceSnapshot,
  PresenceStore,
  PresenceTransition,
} from "./presence.ts";
import { addScript, readScript, removeScript } from "./redis_scripts.ts";
import { RedisNames } from "../engine/redis_names.ts";

const logger = log("presence");

/**
 * How long a member lives in Redis without its node refreshing it. With the
 * refresh below, which also sweeps what expired, a dead node's members are
 * gone, and their users' leave sent, within 60 s (SPEC §8).
 */
export const PRESENCE_TTL_MS = 40_000;

/** How often a node refreshes its members (and sweeps expired ones of the same channels). */
const REFRESH_MS = 15_000;

/** Options of {@linkcode RedisPresence}. */
export interface RedisPresenceOptions {
  /** `redis://` or `rediss://`, with password if any. */
  readonly url: string;
  /** Receives the events of the channels this node listens to: the fan-out. */
  readonly listener: PresenceListener;
  /** `PRESENCE_LEAVE_DELAY_MS`. */
  readonly leaveDelayMs: number;
  /** Told of each transition a script of this node decided: the webhooks. */
  readonly onTransition?: (transition: PresenceTransition) => void;
  /** Its app's key names (the default app's without it). */
  readonly names?: RedisNames;
}

/**
 * Cluster-wide presence.
 *
 * @example
 * ```ts
 * import { RedisPresence } from "./redis.ts";
 *
 * // Needs a Redis server, so the doc test only defines it.
 * function presenceOn(url: string): RedisPresence {
 *   return new RedisPresence({
 *     url,
 *     listener: (event) => console.log(event),
 *     leaveDelayMs: 5000,
 *   });
 * }
 * ```
 */
export class RedisPresence implements PresenceStore {
  readonly #names: RedisNames;
  readonly #commands: Redis;
  readonly #subscriber: Redis;
  readonly #listener: PresenceListener;
  readonly #leaveDelayMs: number;
  readonly #onTransition: (transition: PresenceTransition) => void;
  /** This node's members, by channel and connection id: what it refreshes. */
  readonly #local = new Map<string, Map<string, Member>>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #refresher: ReturnType<typeof setInterval>;
  #members = 0;
  #closed = false;

  /** Connects (lazily, with backoff) to `options.url`. */
  constructor(options: RedisPresenceOptions) {
    this.#listener = options.listener;
    this.#leaveDelayMs = options.leaveDelayMs;
    this.#onTransition = options.onTransition ?? (() => {});
    this.#names = options.names ?? new RedisNames();
    [this.#commands, this.#subscriber] = connect(
      options.url,
      "broadcaster-presence",
    );
    this.#subscriber.on(
      "message",
      (topic: string, text: string) => this.#onEvent(topic, text),
    );
    this.#refresher = setInterval(() => this.#refresh(), REFRESH_MS);
    Deno.unrefTimer(this.#refresher);
  }

  get localMembers(): number {
    return this.#members;
  }

  get healthy(): boolean {
    return !this.#closed && this.#commands.status === "ready" &&
      this.#subscriber.status === "ready";
  }

  start(timeoutMs: number): Promise<void> {
    return waitForRedis(
      "presence",
      () => this.healthy,
      () => this.#closed,
      timeoutMs,
    );
  }

  async add(channel: string, member: Member): Promise<void> {
    await this.#write(addScript, channel, [
      this.#names.presenceTopic(channel),
      String(PRESENCE_TTL_MS),
      String(this.#leavingTtl),
      ...memberArgs(member),
    ]);
    let members = this.#local.get(channel);
    if (members === undefined) {
      members = new Map();
      this.#local.set(channel, members);
    }
    if (!members.has(member.connectionId)) this.#members++;
    members.set(member.connectionId, member);
  }

  remove(channel: string, member: Member): Promise<void> {
    const members = this.#local.get(channel);
    if (members?.delete(member.connectionId)) {
      this.#members--;
      if (members.size === 0) this.#local.delete(channel);
    }
    const removed = this.#write(removeScript, channel, [
      this.#names.presenceTopic(channel),
      String(PRESENCE_TTL_MS),
      String(this.#leavingTtl),
      member.connectionId,
      member.user,
      String(this.#leaveDelayMs),
    ]).then(() => this.#leaveLater(channel));
    // Awaited by close(): a node shutting down takes its members out first.
    this.#pending.add(removed);
    return removed.finally(() => this.#pending.delete(removed));
  }

  async snapshot(channel: string, max: number): Promise<PresenceSnapshot> {
    const [connections, users, members] = await this.#read(channel, max);
    return {
      connections,
      users,
      members: members.map(memberOf),
      truncated: connections > members.length,
    };
  }

  async counts(channel: string): Promise<PresenceCounts> {
    const [connections, users] = await this.#read(channel, 0);
    return { connections, users };
  }

  /**
   * Every node's channels, from the keys Redis holds (SCAN, a page at a
   * time), each counted after what expired is swept.
   */
  async channels(prefix: string): Promise<ChannelCount[]> {
    const match = this.#names.presenceKeysMatching(prefix);
    const names = new Set<string>();
    let cursor = "0";
    do {
      const [next, keys] = await unavailableUnless(
        this.#closed,
        () => this.#commands.scan(cursor, "MATCH", match, "COUNT", 1000),
      );
      cursor = next;
      for (const key of keys) {
        const channel = this.#names.channelOfPresenceKey(key);
        if (channel !== null) names.add(channel);
      }
    } while (cursor !== "0");
    const occupied: ChannelCount[] = [];
    for (const channel of [...names].sort()) {
      const { connections } = await this.counts(channel);
      if (connections > 0) occupied.push({ channel, connections });
    }
    return occupied;
  }

  listen(channel: string): void {
    this.#subscriber.subscribe(this.#names.presenceTopic(channel)).catch((
      error,
    ) =>
      logger.warning("presence of {channel} waits for redis: {error}", {
        channel,
        error: String(error),
      })
    );
  }

  unlisten(channel: string): void {
    this.#subscriber.unsubscribe(this.#names.presenceTopic(channel)).catch(
      () => {
        // Disconnected: nothing to unsubscribe from.
      },
    );
  }

  async close(): Promise<void> {
    clearInterval(this.#refresher);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await Promise.allSettled(this.#pending);
    this.#closed = true;
    this.#local.clear();
    this.#members = 0;
    this.#commands.disconnect();
    this.#subscriber.disconnect();
  }

  /** Long enough for a due leave to be published by any node that comes by. */
  get #leavingTtl(): number {
    return Math.max(PRESENCE_TTL_MS, this.#leaveDelayMs) + PRESENCE_TTL_MS;
  }

  /** Once the leave delay is over, publishes the leave if it is still due. */
  #leaveLater(channel: string): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#read(channel, 0).catch((error) =>
        logger.warning("presence leave of {channel}: {error}", {
          channel,
          error: String(error),
        })
      );
    }, this.#leaveDelayMs + 1);
    Deno.unrefTimer(timer);
    this.#timers.add(timer);
  }

  /** Pushes this node's members' expiry forward (and puts back any that expired meanwhile). */
  #refresh(): void {
    for (const [channel, members] of this.#local) {
      this.#write(addScript, channel, [
        this.#names.presenceTopic(channel),
        String(PRESENCE_TTL_MS),
        String(this.#leavingTtl),
        ...[...members.values()].flatMap(memberArgs),
      ]).catch((error) =>
        logger.warning("refreshing presence of {channel}: {error}", {
          channel,
          error: String(error),
        })
      );
    }
  }

  async #read(
    channel: string,
    max: number,
  ): Promise<[number, number, string[]]> {
    const [connections, users, members, transitions] = await this.#run(
      readScript,
      channel,
      [this.#names.presenceTopic(channel), String(max)],
    ) as [number, number, string[], string[]];
    this.#decided(channel, transitions);
    return [connections, users, members];
  }

  /** Runs a script that changes presence; tells the webhooks what it decided. */
  async #write(
    script: typeof addScript,
    channel: string,
    args: readonly string[],
  ): Promise<void> {
    const transitions = await this.#run(script, channel, args) as string[];
    this.#decided(channel, transitions);
  }

  /** Transitions a script of this node decided (`o`, `v`, `j<user>`, `l<user>`). */
  #decided(channel: string, transitions: readonly string[]): void {
    for (const transition of transitions) {
      const kind = transition[0];
      const user = transition.slice(1);
      if (kind === "o") {
        this.#onTransition({ name: "channel_occupied", channel });
      } else if (kind === "v") {
        this.#onTransition({ name: "channel_vacated", channel });
      } else if (kind === "j") {
        this.#onTransition({ name: "member_added", channel, user });
      } else if (kind === "l") {
        this.#onTransition({ name: "member_removed", channel, user });
      }
    }
  }

  #run(
    script: typeof addScript,
    channel: string,
    args: readonly string[],
  ): Promise<unknown> {
    return unavailableUnless(
      this.#closed,
      () => script.run(this.#commands, this.#names.presenceKeys(channel), args),
    );
  }

  #onEvent(topic: string, text: string): void {
    const prefix = this.#names.presenceTopicPrefix;
    if (!topic.startsWith(prefix)) return;
    const channel = topic.slice(prefix.length);
    const event = eventOf(channel, text);
    if (event !== null) this.#listener(event);
  }
}

/** A member back from the JSON the add script stored (`info` as JSON text again). */
function memberOf(json: string): Member {
  const { user, connectionId, info } = JSON.parse(json) as {
    user: string;
    connectionId: string;
    info?: unknown;
  };
  return info === undefined
    ? { user, connectionId }
    : { user, connectionId, info: JSON.stringify(info) };
}

/** A member as the add script takes it: id, user, JSON, info ('' for none). */
function memberArgs(member: Member): string[] {
  return [
    member.connectionId,
    member.user,
    memberJson(member),
    member.info ?? "",
  ];
}

/** An event as a script published it, or `null` for one that is not ours. */
function eventOf(channel: string, text: string): PresenceEvent | null {
  try {
    const event = JSON.parse(text) as {
      k: string;
      u?: string;
      i?: unknown;
      c?: number;
      n?: number;
      p?: number;
    };
    switch (event.k) {
      case "join":
        return event.i === undefined
          ? { kind: "join", channel, user: String(event.u) }
          : {
            kind: "join",
            channel,
            user: String(event.u),
            info: JSON.stringify(event.i),
          };
      case "leave":
        return { kind: "leave", channel, user: String(event.u) };
      case "counts":
        return {
          kind: "counts",
          channel,
          connections: Number(event.c),
          users: Number(event.n),
          peak: Number(event.p),
        };
      default:
        return null;
    }
  } catch {
    return null;
  }
}
