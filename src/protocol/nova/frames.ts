/**
 * The frames of the Nova Streaming viewer protocol: every one exactly
 * `{"event", "data"}`, times in ISO 8601. A back-end's message on a stream
 * arrives with its event name and its payload as `data` (`stream_id` the
 * stream's, and `timestamp` filled in when it left it out); occupancy arrives as
 * `viewer_count_changed`, with a `peak_viewers` that never falls while the
 * stream lives ({@linkcode StreamPeaks}).
 *
 * @module
 */

import { formatTimestamp, type Message } from "../message.ts";
import { type Framing, lastOf, type Notice } from "../notices.ts";
import { streamIdOf } from "./stream.ts";

/** The protocol version `connection_established` announces. */
export const PROTOCOL_VERSION = "1.0";

/** One frame. */
export function frame(event: string, data: unknown): string {
  return JSON.stringify({ event, data });
}

/** What an `error` event says. */
export interface NovaError {
  /** Machine-readable, e.g. `BUFFER_OVERFLOW`. */
  readonly code: string;
  /** `error_message`: for a human. */
  readonly message: string;
  /** How bad it is. */
  readonly severity: "info" | "warning" | "error" | "critical";
  /** Whether the viewer can go on without reconnecting. */
  readonly recoverable: boolean;
  /** `suggested_action`: what the viewer should do. */
  readonly action: string;
}

/**
 * An `error` event at `now`.
 *
 * @example
 * ```ts
 * import { errorFrame } from "./frames.ts";
 *
 * errorFrame({
 *   code: "RATE_LIMITED",
 *   message: "too many messages",
 *   severity: "warning",
 *   recoverable: true,
 *   action: "Slow down",
 * }, 0);
 * ```
 */
export function errorFrame(error: NovaError, now: number): string {
  return frame("error", {
    error_code: error.code,
    error_message: error.message,
    severity: error.severity,
    recoverable: error.recoverable,
    suggested_action: error.action,
    timestamp: formatTimestamp(now),
  });
}

/**
 * A stream's message as viewers get it: its event, its payload as `data`,
 * `stream_id` first and `timestamp` (the message's time) last unless the
 * payload has its own. A payload that is no object is `data` as it is.
 */
export function deliveryFrame(message: Message): string {
  let payload: unknown;
  try {
    payload = JSON.parse(message.payloadJson);
  } catch {
    payload = null;
  }
  if (
    typeof payload !== "object" || payload === null || Array.isArray(payload)
  ) {
    return `{"event":${
      JSON.stringify(message.event)
    },"data":${message.payloadJson}}`;
  }
  // The stream is the channel's, whatever the payload says; its own time stays.
  const data: Record<string, unknown> = {
    "stream_id": streamIdOf(message.channel),
  };
  for (const [key, value] of Object.entries(payload)) {
    if (key !== "stream_id") data[key] = value;
  }
  data.timestamp ??= message.createTime;
  return frame(message.event, data);
}

/** How many streams' peaks a node remembers at most (the oldest forgotten first). */
const MAX_PEAKS = 10_000;

/**
 * The highest viewer count of each live stream this node has seen: the
 * presence peak restarts when a channel empties, a stream's must not while
 * it lives. A `stream_started` or `stream_ended` starts it afresh.
 */
export class StreamPeaks {
  readonly #peaks = new Map<string, number>();

  /** Records `peak` for `channel`; the stream's peak so far. */
  raise(channel: string, peak: number): number {
    const known = this.#peaks.get(channel) ?? 0;
    if (peak <= known) return known;
    this.#peaks.delete(channel);
    this.#peaks.set(channel, peak);
    if (this.#peaks.size > MAX_PEAKS) {
      const oldest = this.#peaks.keys().next().value;
      if (oldest !== undefined) this.#peaks.delete(oldest);
    }
    return peak;
  }

  /** The stream's peak so far (0 when unknown). */
  of(channel: string): number {
    return this.#peaks.get(channel) ?? 0;
  }

  /** A stream started or ended: its peak starts afresh. */
  forget(channel: string): void {
    this.#peaks.delete(channel);
  }
}

/**
 * How the hub frames deliveries and notices for Nova viewers, once per
 * message or notice: stream events as they were published, occupancy as
 * `viewer_count_changed`, `/notify` as an event of its name; join and leave
 * have no frame here.
 */
export function novaFraming(peaks: StreamPeaks, clock: () => number): Framing {
  return {
    broadcast: lastOf((message: Message) => {
      if (
        message.event === "stream_started" || message.event === "stream_ended"
      ) {
        peaks.forget(message.channel);
      }
      return deliveryFrame(message);
    }),
    notice: lastOf((notice: Notice) => {
      switch (notice.kind) {
        case "occupancy":
          return frame("viewer_count_changed", {
            stream_id: streamIdOf(notice.channel),
            viewer_count: notice.connections,
            peak_viewers: peaks.raise(notice.channel, notice.peak),
            change: notice.change,
            timestamp: formatTimestamp(clock()),
          });
        case "notification":
          return `{"event":${
            JSON.stringify(notice.event)
          },"data":${notice.payloadJson}}`;
        default:
          return null;
      }
    }),
  };
}

/** Whether a delivered frame is the stream's end: the viewer's socket closes 1000 after it. */
export function endsStream(text: string): boolean {
  return text.startsWith('{"event":"stream_ended"');
}
