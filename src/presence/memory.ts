/**
 * Presence of one process (`ENGINE=memory`): every member is local, so each
 * transition is decided here, synchronously, and reported to the listener.
 *
 * @module
 */

import type {
  ChannelCount,
  Member,
  PresenceCounts,
  PresenceListener,
  PresenceSnapshot,
  PresenceStore,
  PresenceTransition,
} from "./presence.ts";

/** Options of {@linkcode MemoryPresence}. */
export interface MemoryPresenceOptions {
  /** Receives every event: the node's presence fan-out. */
  readonly listener: PresenceListener;
  /** `PRESENCE_LEAVE_DELAY_MS`: how long a user may be gone before `leave`. */
  readonly leaveDelayMs: number;
  /** Told of every transition (all are decided here): the webhooks. */
  readonly onTransition?: (transition: PresenceTransition) => void;
}

/** One channel's presence. */
interface ChannelPresence {
  /** By connection id. */
  readonly members: Map<string, Member>;
  /** Connections per user. */
  readonly users: Map<string, number>;
  /** Users gone, waiting out the leave delay. */
  readonly leaving: Map<string, ReturnType<typeof setTimeout>>;
  /** Most connections since the channel became occupied. */
  peak: number;
}

/**
 * Presence in this process.
 *
 * @example
 * ```ts
 * import { MemoryPresence } from "./memory.ts";
 *
 * const presence = new MemoryPresence({
 *   listener: (event) => console.log(event.kind),
 *   leaveDelayMs: 5000,
 * });
 * await presence.add("room1", { user: "alice", connectionId: "c1" }); // join, counts
 * await presence.close();
 * ```
 */
export class MemoryPresence implements PresenceStore {
  readonly #listener: PresenceListener;
  readonly #leaveDelayMs: number;
  readonly #onTransition: (transition: PresenceTransition) => void;
  readonly #channels = new Map<string, ChannelPresence>();
  #members = 0;

  /** A store reporting to `options.listener`. */
  constructor(options: MemoryPresenceOptions) {
    this.#listener = options.listener;
    this.#leaveDelayMs = options.leaveDelayMs;
    this.#onTransition = options.onTransition ?? (() => {});
  }

  get localMembers(): number {
    return this.#members;
  }

  /** Always: it is this process. */
  get healthy(): boolean {
    return true;
  }

  /** Ready at once. */
  start(_timeoutMs: number): Promise<void> {
    return Promise.resolve();
  }

  add(channel: string, member: Member): Promise<void> {
    let presence = this.#channels.get(channel);
    if (presence === undefined) {
      presence = {
        members: new Map(),
        users: new Map(),
        leaving: new Map(),
        peak: 0,
      };
      this.#channels.set(channel, presence);
    }
    const known = presence.members.has(member.connectionId);
    presence.members.set(member.connectionId, member);
    if (known) return Promise.resolve();
    this.#members++;
    if (presence.members.size === 1) {
      this.#onTransition({ name: "channel_occupied", channel });
    }
    const { user } = member;
    const connections = (presence.users.get(user) ?? 0) + 1;
    presence.users.set(user, connections);
    if (connections === 1) {
      const leaving = presence.leaving.get(user);
      if (leaving !== undefined) {
        // Back within the delay: as if it had never left.
        clearTimeout(leaving);
        presence.leaving.delete(user);
      } else {
        this.#listener(
          member.info === undefined
            ? { kind: "join", channel, user }
            : { kind: "join", channel, user, info: member.info },
        );
        this.#onTransition({ name: "member_added", channel, user });
      }
    }
    presence.peak = Math.max(presence.peak, presence.members.size);
    this.#counted(channel, presence);
    return Promise.resolve();
  }

  remove(channel: string, member: Member): Promise<void> {
    const presence = this.#channels.get(channel);
    if (presence === undefined) return Promise.resolve();
    if (!presence.members.delete(member.connectionId)) {
      return Promise.resolve();
    }
    this.#members--;
    const { user } = member;
    const connections = (presence.users.get(user) ?? 1) - 1;
    if (connections > 0) {
      presence.users.set(user, connections);
    } else {
      presence.users.delete(user);
      presence.leaving.set(
        user,
        setTimeout(() => this.#left(channel, user), this.#leaveDelayMs),
      );
    }
    if (presence.members.size === 0) {
      presence.peak = 0;
      this.#onTransition({ name: "channel_vacated", channel });
    }
    this.#counted(channel, presence);
    return Promise.resolve();
  }

  snapshot(channel: string, max: number): Promise<PresenceSnapshot> {
    const presence = this.#channels.get(channel);
    if (presence === undefined) {
      return Promise.resolve({
        connections: 0,
        users: 0,
        members: [],
        truncated: false,
      });
    }
    const members: Member[] = [];
    for (const member of presence.members.values()) {
      if (members.length === max) break;
      members.push(member);
    }
    return Promise.resolve({
      connections: presence.members.size,
      users: presence.users.size,
      members,
      truncated: presence.members.size > members.length,
    });
  }

  counts(channel: string): Promise<PresenceCounts> {
    const presence = this.#channels.get(channel);
    return Promise.resolve({
      connections: presence?.members.size ?? 0,
      users: presence?.users.size ?? 0,
    });
  }

  channels(prefix: string): Promise<ChannelCount[]> {
    const occupied: ChannelCount[] = [];
    for (const [channel, presence] of this.#channels) {
      if (presence.members.size > 0 && channel.startsWith(prefix)) {
        occupied.push({ channel, connections: presence.members.size });
      }
    }
    occupied.sort((a, b) => a.channel < b.channel ? -1 : 1);
    return Promise.resolve(occupied);
  }

  /** Every event is local already. */
  listen(_channel: string): void {}

  unlisten(_channel: string): void {}

  close(): Promise<void> {
    for (const presence of this.#channels.values()) {
      for (const timer of presence.leaving.values()) clearTimeout(timer);
    }
    this.#channels.clear();
    this.#members = 0;
    return Promise.resolve();
  }

  /** The leave delay is over: `leave`, unless the user came back. */
  #left(channel: string, user: string): void {
    const presence = this.#channels.get(channel);
    if (presence === undefined) return;
    presence.leaving.delete(user);
    if (!presence.users.has(user)) {
      this.#listener({ kind: "leave", channel, user });
      this.#onTransition({ name: "member_removed", channel, user });
    }
    if (presence.members.size === 0 && presence.leaving.size === 0) {
      this.#channels.delete(channel);
    }
  }

  #counted(channel: string, presence: ChannelPresence): void {
    this.#listener({
      kind: "counts",
      channel,
      connections: presence.members.size,
      users: presence.users.size,
      peak: presence.peak,
    });
    // Empty and nobody waiting to leave: nothing left to remember.
    if (presence.members.size === 0 && presence.leaving.size === 0) {
      this.#channels.delete(channel);
    }
  }
}
