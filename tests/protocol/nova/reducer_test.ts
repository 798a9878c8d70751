/**
 * The Nova reducer, driven directly: the welcome and the replay of a live
 * stream's start, the heartbeat at the document's defaults (in virtual
 * time), the viewer's messages, and bad input closing 1003.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import type { Authentication } from "../../../src/protocol/authentication.ts";
import type { Effect, Input } from "../../../src/protocol/effects.ts";
import type { Message } from "../../../src/protocol/message.ts";
import {
  DEFAULT_CHANNEL_POLICY,
  Namespaces,
} from "../../../src/protocol/namespaces.ts";
import type { NovaInput } from "../../../src/protocol/nova/effects.ts";
import { type NovaStep, reduce } from "../../../src/protocol/nova/reducer.ts";
import {
  DOCUMENT_HEARTBEAT,
  type NovaState,
  novaState,
} from "../../../src/protocol/nova/state.ts";

const NOW = Date.parse("2026-01-02T03:04:05.678Z");

const AUTH: Authentication = {
  subject: "viewer-1",
  channels: new Set(["streams:s1"]),
  grants: [],
  scopes: new Set(["subscribe"]),
  expiresAt: NOW + 3_600_000,
};

function fresh(): NovaState {
  return novaState({
    connectionId: "c1",
    limits: {
      maxSubscriptions: 1,
      maxMessageBytes: 262_144,
      rateLimit: 100,
      outboundBufferBytes: 1 << 20,
      presenceMaxMembers: 10,
      namespaces: new Namespaces(DEFAULT_CHANNEL_POLICY),
    },
    auth: AUTH,
    streamId: "s1",
    heartbeat: DOCUMENT_HEARTBEAT,
  });
}

// deno-lint-ignore no-explicit-any -- frames are checked field by field
function sent(effects: readonly unknown[]): { event: string; data: any }[] {
  return effects.flatMap((effect) =>
    (effect as Effect).kind === "send"
      ? [JSON.parse((effect as { text: string }).text)]
      : []
  );
}

function closeOf(step: NovaStep): number | undefined {
  for (const effect of step.effects) {
    if ((effect as Effect).kind === "close") {
      return (effect as { code: number }).code;
    }
  }
  return undefined;
}

function message(event: string, offset: number, payload: unknown): Message {
  return {
    id: `ep-${offset}`,
    createTime: new Date(NOW - 60_000 + offset).toISOString(),
    channel: "streams:s1",
    event,
    payloadJson: JSON.stringify(payload),
    epoch: "ep",
    offset,
  };
}

/** Opens and starts the subscription with `latest` at position `offset`. */
function welcomed(latest: readonly Message[], offset: number): NovaStep {
  const opened = reduce(fresh(), { kind: "opened" }, NOW);
  const subscribe = opened.effects.find((effect) =>
    (effect as Effect).kind === "subscribe"
  ) as Extract<Effect, { kind: "subscribe" }> | undefined;
  assert.ok(subscribe !== undefined);
  return reduce(opened.state, {
    kind: "subscribed",
    subscription: subscribe.subscription,
    requestId: undefined,
    recover: false,
    since: null,
    read: {
      position: { epoch: "ep", offset },
      messages: [],
      recovered: false,
      latest,
    },
  }, NOW);
}

Deno.test("nova reducer: opening subscribes the stream's channel with occupancy, presence and its latest state", () => {
  const opened = reduce(fresh(), { kind: "opened" }, NOW);
  const subscribe = opened.effects.find((effect) =>
    (effect as Effect).kind === "subscribe"
  );
  assert.deepEqual(subscribe, {
    kind: "subscribe",
    subscription: {
      id: "c1.1",
      channel: "streams:s1",
      occupancy: true,
      member: { user: "viewer-1", connectionId: "c1" },
    },
    requestId: undefined,
    recover: false,
    since: null,
    limit: 1,
    maxSubscribers: 0,
    latest: true,
  });
  assert.deepEqual(sent(opened.effects), [], "welcomed once subscribed");
});

Deno.test("nova reducer: the welcome, then the live stream's stream_started; not once it ended, nor one published after the position", () => {
  const started = message("stream_started", 3, { title: "T" });
  const live = welcomed([started], 5);
  assert.deepEqual(sent(live.effects).map((frame) => frame.event), [
    "connection_established",
    "stream_started",
  ]);
  assert.deepEqual(sent(live.effects)[1]?.data, {
    stream_id: "s1",
    title: "T",
    timestamp: started.createTime,
  });
  const ended = welcomed([started, message("stream_ended", 4, {})], 5);
  assert.deepEqual(sent(ended.effects).map((frame) => frame.event), [
    "connection_established",
  ]);
  const later = welcomed([message("stream_started", 6, {})], 5);
  assert.deepEqual(
    sent(later.effects).map((frame) => frame.event),
    ["connection_established"],
    "it is among the live messages, not replayed twice",
  );
  const restarted = welcomed([
    message("stream_ended", 2, {}),
    message("stream_started", 3, {}),
  ], 5);
  assert.equal(sent(restarted.effects)[1]?.event, "stream_started");
});

Deno.test("nova reducer: at the document's defaults, a ping every 30 s with a rising sequence; a silent viewer closed at 60 s", () => {
  let state = welcomed([], 0).state;
  const at = (offset: number) => {
    const step = reduce(state, { kind: "timer", name: "ping" }, NOW + offset);
    state = step.state;
    return step;
  };
  assert.deepEqual(sent(at(29_000).effects), [], "not before 30 s");
  const first = sent(at(30_000).effects)[0];
  assert.equal(first?.event, "ping");
  assert.equal(first?.data.sequence, 1);
  // The document's own client: a bare pong every 30 s keeps it open.
  state = reduce(state, {
    kind: "frame",
    text: '{"event":"pong","data":{"timestamp":"2025-10-21T10:50:00.500Z"}}',
  }, NOW + 30_500).state;
  assert.equal(closeOf(at(41_000)), undefined, "no sequence: no ping timeout");
  assert.equal(sent(at(60_000).effects)[0]?.data.sequence, 2);
  assert.equal(closeOf(at(90_000)), undefined);
  assert.equal(closeOf(at(90_499)), undefined);
  assert.equal(closeOf(at(90_500)), 1001, "60 s since it last spoke");
});

Deno.test("nova reducer: a viewer that echoes sequences must answer each ping within 10 s", () => {
  let state = welcomed([], 0).state;
  const ping = reduce(state, { kind: "timer", name: "ping" }, NOW + 30_000);
  state = reduce(ping.state, {
    kind: "frame",
    text: '{"event":"pong","data":{"sequence":1}}',
  }, NOW + 30_100).state;
  const next = reduce(state, { kind: "timer", name: "ping" }, NOW + 60_000);
  assert.equal(sent(next.effects)[0]?.data.sequence, 2);
  const timer = next.effects.find((effect) =>
    (effect as Effect).kind === "timer"
  ) as { at: number } | undefined;
  assert.equal(timer?.at, NOW + 70_000, "checked 10 s after the ping");
  assert.equal(
    closeOf(reduce(next.state, { kind: "timer", name: "ping" }, NOW + 70_000)),
    1001,
  );
});

Deno.test("nova reducer: with pings more often than the timeout, an unanswered ping keeps its deadline", () => {
  let state = novaState({
    connectionId: "c1",
    limits: fresh().limits,
    auth: AUTH,
    streamId: "s1",
    heartbeat: {
      pingIntervalMs: 2_000,
      pingTimeoutMs: 3_000,
      idleTimeoutMs: 60_000,
    },
  });
  state = reduce(state, { kind: "opened" }, NOW).state;
  const tick = (offset: number) => {
    const step = reduce(state, { kind: "timer", name: "ping" }, NOW + offset);
    state = step.state;
    return step;
  };
  tick(2_000);
  state = reduce(state, {
    kind: "frame",
    text: '{"event":"pong","data":{"sequence":1}}',
  }, NOW + 2_100).state;
  assert.equal(sent(tick(4_000).effects)[0]?.data.sequence, 2);
  assert.equal(
    sent(tick(6_000).effects)[0]?.data.sequence,
    3,
    "still within 3 s",
  );
  assert.equal(closeOf(tick(7_000)), 1001, "ping 2 unanswered for 3 s");
});

Deno.test("nova reducer: get_stream_info and report_issue become the dialect's effects; stream_info reports the state", () => {
  const state = welcomed([], 0).state;
  const asked = reduce(state, {
    kind: "frame",
    text: '{"event":"get_stream_info","data":{"request_id":"req-1"}}',
  }, NOW);
  assert.deepEqual(asked.effects, [{
    kind: "streamInfo",
    channel: "streams:s1",
    requestId: "req-1",
  }]);
  const read: NovaInput = {
    kind: "streamInfoRead",
    requestId: "req-1",
    latest: [
      message("stream_started", 1, {
        broadcaster_id: "user-123",
        quality: "1080p",
        fps: 60,
        bitrate_kbps: 5000,
      }),
      message("bitrate_update", 2, {
        current_bitrate_kbps: 4850,
        quality: "1080p",
      }),
    ],
    viewers: 3,
    peak: 7,
  };
  const info = sent(reduce(state, read, NOW).effects)[0];
  assert.equal(info?.event, "stream_info");
  assert.deepEqual({ ...info?.data, timestamp: undefined }, {
    request_id: "req-1",
    stream_id: "s1",
    status: "active",
    viewer_count: 3,
    peak_viewers: 7,
    quality: "1080p",
    bitrate_kbps: 4850,
    fps: 60,
    duration_seconds: 59,
    broadcaster_name: "user-123",
    timestamp: undefined,
  });
  const report = reduce(state, {
    kind: "frame",
    text:
      '{"event":"report_issue","data":{"issue_type":"lag","severity":"low"}}',
  }, NOW);
  assert.deepEqual(report.effects, [{
    kind: "reportIssue",
    channel: "streams:s1",
    report: { issue_type: "lag", severity: "low" },
  }]);
  const overflow = sent(
    reduce(state, { kind: "overflowed" }, NOW).effects,
  )[0];
  assert.equal(overflow?.data.error_code, "BUFFER_OVERFLOW");
  assert.equal(overflow?.data.recoverable, true);
});

Deno.test("nova reducer: over the rate limit an error RATE_LIMITED, abuse closes 1008; an expired token an error, then 4001", () => {
  let state = novaState({
    connectionId: "c1",
    limits: { ...fresh().limits, rateLimit: 1 },
    auth: AUTH,
    streamId: "s1",
    heartbeat: DOCUMENT_HEARTBEAT,
  });
  const codes: (string | undefined)[] = [];
  let closed: number | undefined;
  for (let i = 0; i < 8 && closed === undefined; i++) {
    const step = reduce(state, {
      kind: "frame",
      text: '{"event":"pong","data":{}}',
    }, NOW);
    state = step.state;
    codes.push(sent(step.effects)[0]?.data.error_code);
    closed = closeOf(step);
  }
  assert.deepEqual(codes.slice(0, 3), [undefined, undefined, "RATE_LIMITED"]);
  assert.equal(closed, 1008);
  const expired = reduce(
    welcomed([], 0).state,
    { kind: "timer", name: "tokenExpired" },
    AUTH.expiresAt + 30_000,
  );
  assert.equal(
    sent(expired.effects)[0]?.data.error_code,
    "CONNECTION_REJECTED",
  );
  assert.equal(closeOf(expired), 4001);
});

Deno.test("nova reducer: never throws; anything but the document's messages closes 1003", () => {
  const state = welcomed([], 0).state;
  const good = new Set(["pong", "get_stream_info", "report_issue"]);
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.jsonValue().map((value) => JSON.stringify(value)),
        fc.record({ event: fc.string(), data: fc.anything() }).map((value) =>
          JSON.stringify(value) ?? ""
        ),
      ),
      (text) => {
        const step = reduce(state, { kind: "frame", text } as Input, NOW);
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = null;
        }
        const event = typeof parsed === "object" && parsed !== null
          ? (parsed as { event?: unknown }).event
          : undefined;
        if (typeof event !== "string" || !good.has(event)) {
          assert.equal(closeOf(step), 1003, text);
        }
      },
    ),
    { numRuns: 500 },
  );
});
