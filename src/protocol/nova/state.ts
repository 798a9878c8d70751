/**
 * The state of one Nova viewer's connection: the native connection's
 * (credentials, subscription, limits, rate) plus its stream and heartbeat.
 *
 * @module
 */

import type { Authentication } from "../authentication.ts";
import { type ConnectionState, initialState, type Limits } from "../state.ts";
import { channelOf } from "./stream.ts";

/** The heartbeat's timing: the document's defaults, settable for tests. */
export interface Heartbeat {
  /** A server `ping` this often (30 s). */
  readonly pingIntervalMs: number;
  /** A viewer that echoes ping sequences must answer within this (10 s). */
  readonly pingTimeoutMs: number;
  /** A viewer heard from in no way for this long is closed (60 s). */
  readonly idleTimeoutMs: number;
}

/** The document's heartbeat: ping every 30 s, 10 s to answer, 60 s idle. */
export const DOCUMENT_HEARTBEAT: Heartbeat = {
  pingIntervalMs: 30_000,
  pingTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
};

/** The state of one viewer. Replaced on every step, never mutated. */
export interface NovaState extends ConnectionState {
  /** The stream watched. */
  readonly streamId: string;
  /** Its channel, `streams:{stream_id}`. */
  readonly channel: string;
  /** The heartbeat's timing. */
  readonly heartbeat: Heartbeat;
  /** The sequence of the last `ping` sent; 0 before the first. */
  readonly sequence: number;
  /** The sequence of a `ping` not answered yet, by a viewer that answers them. */
  readonly awaiting: number | null;
  /** When that `ping` was sent. */
  readonly pingSentAt: number;
  /** When the next `ping` is due. */
  readonly nextPingAt: number;
  /** When the viewer last sent anything. */
  readonly lastHeardAt: number;
  /** Whether the viewer echoes ping sequences (then it is held to the ping timeout). */
  readonly echoes: boolean;
}

/** Options of {@linkcode novaState}. */
export interface NovaStateOptions {
  /** Unique per connection: the viewer's `session_id`. */
  readonly connectionId: string;
  /** The limits (with the document's 256 KB messages). */
  readonly limits: Limits;
  /** The viewer's credentials, checked on the upgrade. */
  readonly auth: Authentication;
  /** The stream watched, from the URL. */
  readonly streamId: string;
  /** The heartbeat's timing (the document's unless a test sets it). */
  readonly heartbeat: Heartbeat;
}

/**
 * The state of a viewer who has just connected.
 *
 * @example
 * ```ts
 * import { DEFAULT_CHANNEL_POLICY, Namespaces } from "../namespaces.ts";
 * import { DOCUMENT_HEARTBEAT, novaState } from "./state.ts";
 *
 * const state = novaState({
 *   connectionId: "c1",
 *   limits: {
 *     maxSubscriptions: 1,
 *     maxMessageBytes: 262144,
 *     rateLimit: 100,
 *     outboundBufferBytes: 1 << 20,
 *     presenceMaxMembers: 1000,
 *     namespaces: new Namespaces(DEFAULT_CHANNEL_POLICY),
 *   },
 *   auth: {
 *     subject: "viewer-1",
 *     channels: new Set(["streams:s1"]),
 *     grants: [],
 *     scopes: new Set(["subscribe"]),
 *     expiresAt: Date.now() + 3_600_000,
 *   },
 *   streamId: "s1",
 *   heartbeat: DOCUMENT_HEARTBEAT,
 * });
 * ```
 */
export function novaState(options: NovaStateOptions): NovaState {
  return {
    ...initialState(options),
    streamId: options.streamId,
    channel: channelOf(options.streamId),
    heartbeat: options.heartbeat,
    sequence: 0,
    awaiting: null,
    pingSentAt: 0,
    nextPingAt: 0,
    lastHeardAt: 0,
    echoes: false,
  };
}
