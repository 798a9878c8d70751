/**
 * Presence (SPEC §8): who is subscribed to a channel, how many, and the
 * transitions worth telling observers about.
 *
 * Every subscription is a member, keyed by its connection. A *user* joins
 * when their first connection subscribes and leaves when their last one has
 * been gone for the leave delay, so a flapping network does not spam the
 * room. Counts change at once. A presence store (`memory.ts` for one
 * process, `redis.ts` for a cluster) decides each transition exactly once
 * and reports it as a {@linkcode PresenceEvent}; the node's fan-out
 * (`src/hub/presence_fanout.ts`) tells the local observers.
 *
 * @module
 */

import type {
  Member,
  PresenceCounts,
  PresenceSnapshot,
} from "../protocol/presence.ts";

export type { Member, PresenceCounts, PresenceSnapshot };

/** One occupied channel, as `GET /channels` lists it. */
export interface ChannelCount {
  /** The channel. */
  readonly channel: string;
  /** Its subscriptions. */
  readonly connections: number;
}

/** A transition a store decided, once for the whole cluster. */
export type PresenceEvent =
  /** A user's first connection subscribed (not a return within the leave delay). */
  | {
    readonly kind: "join";
    readonly channel: string;
    readonly user: string;
    readonly info?: string;
  }
  /** A user's last connection left and did not come back within the delay. */
  | { readonly kind: "leave"; readonly channel: string; readonly user: string }
  /** The counts changed; `peak` is the most connections since the channel became occupied. */
  | {
    readonly kind: "counts";
    readonly channel: string;
    readonly connections: number;
    readonly users: number;
    readonly peak: number;
  };

/** Receives every presence event of the channels this node listens to. */
export type PresenceListener = (event: PresenceEvent) => void;

/**
 * A transition this node decided (so it is told once cluster-wide), for
 * webhooks: a channel occupied or vacated, a member added or removed.
 */
export type PresenceTransition =
  | {
    readonly name: "channel_occupied" | "channel_vacated";
    readonly channel: string;
  }
  | {
    readonly name: "member_added" | "member_removed";
    readonly channel: string;
    readonly user: string;
  };

/** Where presence is kept. */
export interface PresenceStore {
  /** Makes `member` present in `channel`. */
  add(channel: string, member: Member): Promise<void>;
  /** `member` left `channel`; harmless for one not present. */
  remove(channel: string, member: Member): Promise<void>;
  /** The channel's members, at most `max`, and its counts. */
  snapshot(channel: string, max: number): Promise<PresenceSnapshot>;
  /** The channel's counts. */
  counts(channel: string): Promise<PresenceCounts>;
  /**
   * The occupied channels whose names start with `prefix`, with their
   * connections (SPEC §9's `GET /channels`), by name.
   */
  channels(prefix: string): Promise<ChannelCount[]>;
  /** This node needs `channel`'s events from now on (a cluster store subscribes). */
  listen(channel: string): void;
  /** This node no longer needs `channel`'s events. */
  unlisten(channel: string): void;
  /** Members this node holds. */
  readonly localMembers: number;
  /** True while the store can serve (`/health`): subscribes need it. */
  readonly healthy: boolean;
  /**
   * Resolves once the store can serve, or after `timeoutMs` if it cannot
   * yet (it keeps trying on its own), as `Engine.start` does.
   */
  start(timeoutMs: number): Promise<void>;
  /** Stops timers and connections; members of this node are forgotten. */
  close(): Promise<void>;
}
