/**
 * Presence as the protocol shows it (SPEC §8): members, counts, and their
 * JSON, built by splicing each member's `info` text rather than parsing it.
 *
 * @module
 */

/** One subscription as presence shows it. */
export interface Member {
  /** The token's `sub`. */
  readonly user: string;
  /** The connection holding the subscription. */
  readonly connectionId: string;
  /** The token's `info` claim as JSON text; absent when it has none. */
  readonly info?: string;
}

/** How many are in a channel. */
export interface PresenceCounts {
  /** Subscriptions (one per connection). */
  readonly connections: number;
  /** Distinct users. */
  readonly users: number;
}

/** A channel's members, at most the cap. */
export interface PresenceSnapshot extends PresenceCounts {
  /** The members, at most `PRESENCE_MAX_MEMBERS`. */
  readonly members: readonly Member[];
  /** True when there were more members than the cap. */
  readonly truncated: boolean;
}

/** `{"user","connectionId","info"?}`, splicing the info's JSON text. */
export function memberJson(member: Member): string {
  const head = `{"user":${JSON.stringify(member.user)},"connectionId":${
    JSON.stringify(member.connectionId)
  }`;
  return member.info === undefined
    ? `${head}}`
    : `${head},"info":${member.info}}`;
}

/**
 * The `presence` answer, `{"connections","users","members"}` (with
 * `"truncated":true` past the cap).
 *
 * @example
 * ```ts
 * import { presenceJson } from "./presence.ts";
 *
 * presenceJson({
 *   connections: 1, users: 1, truncated: false,
 *   members: [{ user: "alice", connectionId: "c1", info: '{"name":"Alice"}' }],
 * });
 * // {"connections":1,"users":1,"members":[{"user":"alice","connectionId":"c1","info":{"name":"Alice"}}]}
 * ```
 */
export function presenceJson(snapshot: PresenceSnapshot): string {
  const members = snapshot.members.map(memberJson).join(",");
  return `{"connections":${snapshot.connections},"users":${snapshot.users},"members":[${members}]${
    snapshot.truncated ? ',"truncated":true' : ""
  }}`;
}

/** The `presenceStats` answer, `{"connections","users"}`. */
export function presenceStatsJson(counts: PresenceCounts): string {
  return `{"connections":${counts.connections},"users":${counts.users}}`;
}
