/**
 * A Nova stream as Broadcaster sees it: the channel `streams:{stream_id}`,
 * and its state, derived from the latest message of each state event the
 * engine keeps (`Engine.latest`): live from a `stream_started` until a later
 * `stream_ended`, its quality, bitrate and fps from the newest event that
 * says them.
 *
 * @module
 */

import type { Message } from "../message.ts";

/** The events whose latest message a stream's channel keeps: its state. */
export const STATE_EVENTS: ReadonlySet<string> = new Set([
  "stream_started",
  "stream_ended",
  "quality_changed",
  "bitrate_update",
]);

/** What every stream's channel starts with. */
export const STREAM_PREFIX = "streams:";

/** The channel of stream `id`. */
export function channelOf(streamId: string): string {
  return STREAM_PREFIX + streamId;
}

/** The stream id of a stream's channel. */
export function streamIdOf(channel: string): string {
  return channel.slice(STREAM_PREFIX.length);
}

/** Whether a channel keeps its latest message of `event` (for `Engine` options). */
export function keepsStreamState(channel: string, event: string): boolean {
  return channel.startsWith(STREAM_PREFIX) && STATE_EVENTS.has(event);
}

/** A stream's state at one moment. */
export interface StreamState {
  /** `active` while live, `ended` after its end, `offline` before any start. */
  readonly status: "active" | "ended" | "offline";
  /** The live stream's `stream_started`, to replay to viewers who join. */
  readonly started: Message | null;
  /** When it started (epoch ms), or `null`. */
  readonly startedAt: number | null;
  /** Its last `stream_ended`, when it has ended. */
  readonly ended: Message | null;
  /** Its quality, from the newest event that says it; `null` when none does. */
  readonly quality: unknown;
  /** Its bitrate in kbps, likewise. */
  readonly bitrateKbps: unknown;
  /** Its frames per second, likewise. */
  readonly fps: unknown;
  /** `broadcaster_name` (else `broadcaster_id`) of its start. */
  readonly broadcasterName: unknown;
  /** The end's own `duration_seconds`, when it has ended and said so. */
  readonly endedDuration: unknown;
}

type Fields = Readonly<Record<string, unknown>>;

function fieldsOf(message: Message | undefined): Fields {
  if (message === undefined) return {};
  try {
    const value: unknown = JSON.parse(message.payloadJson);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as Fields
      : {};
  } catch {
    return {};
  }
}

/** The first of `values` that is set, newest source first. */
function first(...values: unknown[]): unknown {
  return values.find((value) => value !== undefined && value !== null) ?? null;
}

/**
 * The state the latest messages describe. A state event older than the
 * live stream's start belongs to an earlier life of the stream and is not
 * read.
 *
 * @example
 * ```ts
 * import { streamState } from "./stream.ts";
 *
 * streamState([]).status; // "offline"
 * ```
 */
export function streamState(latest: readonly Message[]): StreamState {
  const byEvent = new Map(latest.map((message) => [message.event, message]));
  const started = byEvent.get("stream_started");
  const ended = byEvent.get("stream_ended");
  const live = started !== undefined &&
    (ended === undefined || ended.offset < started.offset);
  const since = (message: Message | undefined) =>
    message !== undefined &&
      (started === undefined || message.offset > started.offset)
      ? message
      : undefined;
  const quality = fieldsOf(since(byEvent.get("quality_changed")));
  const bitrate = fieldsOf(since(byEvent.get("bitrate_update")));
  const start = fieldsOf(started);
  const qualityNewer = (since(byEvent.get("quality_changed"))?.offset ?? 0) >
    (since(byEvent.get("bitrate_update"))?.offset ?? 0);
  return {
    status: live ? "active" : ended !== undefined ? "ended" : "offline",
    started: live ? started : null,
    startedAt: started === undefined ? null : Date.parse(started.createTime),
    ended: live ? null : ended ?? null,
    quality: first(
      qualityNewer ? quality.new_quality : bitrate.quality,
      quality.new_quality,
      bitrate.quality,
      start.quality,
    ),
    bitrateKbps: first(
      qualityNewer ? quality.new_bitrate_kbps : bitrate.current_bitrate_kbps,
      bitrate.current_bitrate_kbps,
      quality.new_bitrate_kbps,
      start.bitrate_kbps,
    ),
    fps: first(quality.fps, start.fps),
    broadcasterName: first(start.broadcaster_name, start.broadcaster_id),
    endedDuration: live ? null : first(fieldsOf(ended).duration_seconds),
  };
}
