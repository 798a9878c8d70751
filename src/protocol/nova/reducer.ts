/**
 * The Nova Streaming viewer protocol (SPEC §11, document `003`) as a pure
 * reducer over the core: a viewer subscribes to its stream's channel at
 * connect (a presence member, told of occupancy), is welcomed with
 * `connection_established` and, while the stream is live, its
 * `stream_started`; then the back-end's events, `viewer_count_changed`
 * and the server's `ping`s reach it. What the viewer sends must be one of
 * the document's messages: anything else closes the socket with 1003.
 *
 * @module
 */

import { onClosed } from "../closed.ts";
import { CloseCode } from "../close_codes.ts";
import type { Effect, Input, Step } from "../effects.ts";
import { formatTimestamp } from "../message.ts";
import { onBacklog, onLagging } from "../outbound.ts";
import { liveStart, type StreamRead } from "../position.ts";
import { admitted } from "../rate_limit.ts";
import { send, unchanged } from "../replies.ts";
import { memberOf } from "../requests.ts";
import type { Subscription } from "../state.ts";
import { onTimer } from "../timers.ts";
import { lifetime, type TokenNotices } from "../token_lifetime.ts";
import type { NovaEffect, NovaInput } from "./effects.ts";
import {
  deliveryFrame,
  errorFrame,
  frame,
  type NovaError,
  PROTOCOL_VERSION,
} from "./frames.ts";
import { onHeartbeat, startHeartbeat } from "./heartbeat.ts";
import { decodeMessage, type ViewerMessage } from "./messages.ts";
import type { NovaState } from "./state.ts";
import { streamState } from "./stream.ts";

/** One step of a viewer's connection. */
export type NovaStep = Step<NovaState, NovaEffect>;

function close(code: number, reason: string): Effect {
  return { kind: "close", code, reason };
}

/** An `error` event, then the socket closed: the document's "connection closes". */
function fail(
  state: NovaState,
  error: NovaError,
  closing: { readonly code: number; readonly reason: string },
  now: number,
): NovaStep {
  return {
    state,
    effects: [
      send(errorFrame(error, now)),
      close(closing.code, closing.reason),
    ],
  };
}

/** No warning (the document has no frame for it); at expiry an `error`, then 4001. */
const TOKEN_NOTICES: TokenNotices = {
  expiring: () => null,
  expired: (now) => [
    send(errorFrame({
      code: "CONNECTION_REJECTED",
      message: "the token expired",
      severity: "critical",
      recoverable: false,
      action: "Reconnect with a new token",
    }, now)),
  ],
};

/**
 * Decides what one input does to a viewer's connection.
 *
 * @example
 * ```ts
 * import { DEFAULT_CHANNEL_POLICY, Namespaces } from "../namespaces.ts";
 * import { reduce } from "./reducer.ts";
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
 *     expiresAt: 3_600_000,
 *   },
 *   streamId: "s1",
 *   heartbeat: DOCUMENT_HEARTBEAT,
 * });
 * const { effects } = reduce(state, { kind: "frame", text: "nonsense" }, 0);
 * // effects: [{ kind: "close", code: 1003, reason: "invalid JSON" }]
 * ```
 */
export function reduce(
  state: NovaState,
  input: Input | NovaInput,
  now: number,
): NovaStep {
  if (state.closed) return unchanged(state);
  switch (input.kind) {
    case "opened":
      return onOpened(state, now);
    case "frame":
      return onText(state, input.text, now);
    case "binaryFrame":
      return {
        state,
        effects: [
          close(CloseCode.UnsupportedData, "binary frames are not supported"),
        ],
      };
    case "oversizedFrame":
      return {
        state,
        effects: [
          close(
            CloseCode.MessageTooBig,
            `message over ${state.limits.maxMessageBytes} bytes`,
          ),
        ],
      };
    case "timer":
      if (input.name === "ping") return onHeartbeat(state, now);
      return onTimer(state, input.name, now, TOKEN_NOTICES);
    case "subscribed":
      return onSubscribed(state, input.subscription, input.read, now);
    case "subscribeFailed":
      return fail(
        state,
        {
          code: "SERVER_ERROR",
          message: input.failure === "unavailable"
            ? "the server cannot reach its engine"
            : "internal server error",
          severity: "critical",
          recoverable: false,
          action: "Try again later",
        },
        { code: CloseCode.TryAgainLater, reason: "subscribe failed" },
        now,
      );
    case "channelFull":
      return fail(
        state,
        {
          code: "CONNECTION_REJECTED",
          message: `the stream has its ${input.limit} viewers`,
          severity: "error",
          recoverable: false,
          action: "Try again later",
        },
        { code: CloseCode.TryAgainLater, reason: "stream full" },
        now,
      );
    case "lagging":
      return onLagging(state, now);
    case "backlog":
      return onBacklog(state, input.bytes, now);
    case "streamInfoRead":
      return reply(state, streamInfoFrame(state, input, now));
    case "streamInfoFailed":
      return reply(
        state,
        errorFrame({
          code: "SERVER_ERROR",
          message: "the stream info cannot be read now",
          severity: "warning",
          recoverable: true,
          action: "Ask again later",
        }, now),
      );
    case "overflowed":
      return reply(
        state,
        errorFrame({
          code: "BUFFER_OVERFLOW",
          message:
            "messages were dropped here: the connection fell behind, the newest are kept",
          severity: "warning",
          recoverable: true,
          action:
            "Check the network; ask get_stream_info for the current state",
        }, now),
      );
    case "closed":
      return onClosed(state);
    default:
      // Never asked for by this protocol: publishes, history, presence, trigger, auth.
      return unchanged(state);
  }
}

function reply(state: NovaState, text: string): NovaStep {
  return { state, effects: [send(text)] };
}

/**
 * The socket is open: the stream's channel is subscribed (a presence
 * member, told of occupancy, with the stream's latest state), and the
 * heartbeat and the token's timers start.
 */
function onOpened(state: NovaState, now: number): NovaStep {
  const auth = state.auth;
  if (auth === null) {
    return { state, effects: [close(CloseCode.TokenExpired, "no token")] };
  }
  const policy = state.limits.namespaces.policyOf(state.channel);
  const opened = state.subscriptionsOpened + 1;
  const subscription: Subscription = {
    id: `${state.connectionId}.${opened}`,
    channel: state.channel,
    occupancy: true,
    ...(policy.presence ? { member: memberOf(auth, state.connectionId) } : {}),
  };
  const heartbeat = startHeartbeat(
    {
      ...state,
      subscriptions: new Map([[state.channel, subscription]]),
      subscriptionsOpened: opened,
    },
    now,
  );
  return {
    state: heartbeat.state,
    effects: [
      {
        kind: "subscribe",
        subscription,
        requestId: undefined,
        recover: false,
        since: null,
        limit: 1,
        maxSubscribers: policy.maxSubscribers,
        latest: true,
      },
      ...heartbeat.effects,
      ...lifetime(auth, now, TOKEN_NOTICES),
    ],
  };
}

/**
 * The subscription stands: `connection_established`, then the live
 * stream's `stream_started` (unless it came after the position read: then
 * it is among the live messages), then the live messages.
 */
function onSubscribed(
  state: NovaState,
  subscription: Subscription,
  read: StreamRead | null,
  now: number,
): NovaStep {
  if (state.subscriptions.get(subscription.channel) !== subscription) {
    return { state, effects: [{ kind: "unsubscribe", subscription }] };
  }
  const effects: Effect[] = [
    send(frame("connection_established", {
      stream_id: state.streamId,
      viewer_id: state.auth?.subject ?? null,
      session_id: state.connectionId,
      protocol_version: PROTOCOL_VERSION,
      timestamp: formatTimestamp(now),
    })),
  ];
  const position = read?.position ?? { epoch: "", offset: 0 };
  const { started } = streamState(read?.latest ?? []);
  if (
    started !== null && started.epoch === position.epoch &&
    started.offset <= position.offset
  ) {
    effects.push(send(deliveryFrame(started)));
  }
  effects.push({ kind: "activate", subscription, start: liveStart(position) });
  return { state, effects };
}

/** A viewer's frame: rate-limited, then one of the document's messages or a close 1003. */
function onText(previous: NovaState, text: string, now: number): NovaStep {
  return admitted({ ...previous, lastHeardAt: now }, now, {
    refused: () =>
      send(errorFrame({
        code: "RATE_LIMITED",
        message: `at most ${previous.limits.rateLimit} messages per second`,
        severity: "warning",
        recoverable: true,
        action: "Send fewer messages",
      }, now)),
    next: (state) => {
      const decoded = decodeMessage(text);
      return decoded.ok ? onMessage(state, decoded.message) : {
        state,
        effects: [close(CloseCode.UnsupportedData, decoded.reason)],
      };
    },
  });
}

function onMessage(state: NovaState, message: ViewerMessage): NovaStep {
  switch (message.event) {
    case "pong":
      if (message.sequence === null) return unchanged(state);
      return {
        state: {
          ...state,
          echoes: true,
          awaiting: message.sequence >= (state.awaiting ?? Infinity)
            ? null
            : state.awaiting,
        },
        effects: [],
      };
    case "get_stream_info":
      return {
        state,
        effects: [{
          kind: "streamInfo",
          channel: state.channel,
          requestId: message.requestId,
        }],
      };
    case "report_issue":
      return {
        state,
        effects: [{
          kind: "reportIssue",
          channel: state.channel,
          report: message.report,
        }],
      };
  }
}

/** `stream_info`: the stream's state and counts, `request_id` echoed. */
function streamInfoFrame(
  state: NovaState,
  read: Extract<NovaInput, { kind: "streamInfoRead" }>,
  now: number,
): string {
  const stream = streamState(read.latest);
  const duration = stream.status === "active" && stream.startedAt !== null
    ? Math.max(0, Math.floor((now - stream.startedAt) / 1000))
    : stream.status === "ended"
    ? stream.endedDuration ?? endedAfter(stream)
    : 0;
  return frame("stream_info", {
    request_id: read.requestId,
    stream_id: state.streamId,
    status: stream.status,
    viewer_count: read.viewers,
    peak_viewers: Math.max(read.peak, read.viewers),
    quality: stream.quality,
    bitrate_kbps: stream.bitrateKbps,
    fps: stream.fps,
    duration_seconds: duration,
    broadcaster_name: stream.broadcasterName,
    timestamp: formatTimestamp(now),
  });
}

/** How long an ended stream ran, from its start and end messages. */
function endedAfter(stream: ReturnType<typeof streamState>): number {
  if (stream.ended === null || stream.startedAt === null) return 0;
  return Math.max(
    0,
    Math.floor((Date.parse(stream.ended.createTime) - stream.startedAt) / 1000),
  );
}
