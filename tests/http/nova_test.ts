/**
 * Integration, SPEC §11 (second row) and document `003`: the Nova Streaming
 * viewer protocol against a real server with real `WebSocket` viewers and a
 * back-end publishing over REST. Default settings unless a test says why.
 */

import assert from "node:assert/strict";
import { NovaClient, novaUrl, viewerClaims } from "../support/nova_client.ts";
import { settlesWithin } from "../support/observed.ts";
import { RawClient } from "../support/raw_client.ts";
import {
  handler,
  restPublish,
  serve,
  serveWithConfig,
  TEST_API_KEY,
  token,
} from "../support/server.ts";

const STARTED = {
  "broadcaster_id": "user-123",
  "broadcaster_name": "Streamer123",
  title: "Live Gaming Session",
  description: "Playing competitive games with viewers",
  quality: "1080p",
  fps: 60,
  "bitrate_kbps": 5000,
};

/** The back-end: publishes a Nova event to stream `streamId`. */
async function publish(
  base: string,
  streamId: string,
  event: string,
  payload: unknown,
): Promise<{ id: string; createTime: string }> {
  const response = await restPublish(base, {
    channel: `streams:${streamId}`,
    event,
    payload,
  });
  assert.equal(response.status, 200);
  return await response.json();
}

Deno.test("nova: refused before the upgrade: 401 without a good token, 403 for another stream, 404 for an impossible id, 400 for another protocol version", async () => {
  await using fixture = await handler();
  const viewer = token(viewerClaims("s1"));
  const upgrade = (path: string) =>
    fixture.handle(
      new Request(`http://localhost/api/v1/streams/${path}`, {
        headers: { upgrade: "websocket" },
      }),
    );
  const cases: [string, number, string][] = [
    ["s1/ws", 401, "CONNECTION_REJECTED"],
    ["s1/ws?token=nonsense", 401, "CONNECTION_REJECTED"],
    [
      `s1/ws?token=${token({ ...viewerClaims("s1"), ttlSeconds: -120 })}`,
      401,
      "CONNECTION_REJECTED",
    ],
    [`s2/ws?token=${viewer}`, 403, "UNAUTHORIZED"],
    [`bad%20id/ws?token=${viewer}`, 404, "STREAM_NOT_FOUND"],
    [`s1/ws?token=${viewer}&protocol=2.0`, 400, "PROTOCOL_ERROR"],
  ];
  for (const [path, status, code] of cases) {
    const response = await upgrade(path);
    assert.equal(response.status, status, path);
    const body = await response.json();
    assert.deepEqual(Object.keys(body), ["event", "data"]);
    assert.equal(body.event, "error");
    assert.equal(body.data.error_code, code, path);
    assert.equal(body.data.recoverable, false);
  }
  const notFound = await fixture.handle(
    new Request("http://localhost/api/v1/streams/s1/other"),
  );
  assert.equal(notFound.status, 404);
  await notFound.body?.cancel();
});

Deno.test("nova: connection_established, stream_started replayed to a viewer who joins a live stream, the back-end's events as {event, data}, then stream_ended and close 1000", async () => {
  await using fixture = await serve();
  const started = await publish(fixture.base, "s1", "stream_started", STARTED);
  const url = novaUrl(fixture.base, "s1");
  await using viewer = await NovaClient.connect(url, viewerClaims("s1"));
  const welcome = viewer.frames.values[0];
  assert.deepEqual(Object.keys(welcome ?? {}), ["event", "data"]);
  assert.deepEqual(Object.keys(welcome?.data), [
    "stream_id",
    "viewer_id",
    "session_id",
    "protocol_version",
    "timestamp",
  ]);
  assert.equal(welcome?.data.stream_id, "s1");
  assert.equal(welcome?.data.viewer_id, "viewer-1");
  assert.equal(welcome?.data.protocol_version, "1.0");
  assert.ok(!Number.isNaN(Date.parse(welcome?.data.timestamp)));
  assert.deepEqual(viewer.frames.values[1], {
    event: "stream_started",
    data: { stream_id: "s1", ...STARTED, timestamp: started.createTime },
  }, "replayed right after the welcome");

  const quality = {
    "previous_quality": "1080p",
    "new_quality": "720p",
    "previous_bitrate_kbps": 5000,
    "new_bitrate_kbps": 3000,
    fps: 60,
    reason: "adaptive_bitrate",
    timestamp: "2025-10-21T10:40:15.789Z",
  };
  await publish(fixture.base, "s1", "quality_changed", quality);
  assert.deepEqual(await viewer.next("quality_changed"), {
    stream_id: "s1",
    ...quality,
  });
  await publish(fixture.base, "s1", "bitrate_update", {
    current_bitrate_kbps: 4850,
    quality: "720p",
    health: "good",
  });
  assert.equal((await viewer.next("bitrate_update")).health, "good");
  await publish(fixture.base, "s1", "error", {
    error_code: "RTMP_CONNECTION_LOST",
    error_message: "RTMP broadcaster connection lost",
    severity: "critical",
    recoverable: false,
  });
  assert.equal((await viewer.next("error")).error_code, "RTMP_CONNECTION_LOST");
  const poll = await publish(fixture.base, "s1", "poll_opened", {
    question: "Next map?",
  });
  assert.deepEqual(await viewer.next("poll_opened"), {
    stream_id: "s1",
    question: "Next map?",
    timestamp: poll.createTime,
  }, "any other event passes through the same way");
  const notified = await fetch(`${fixture.base}/notify`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_API_KEY}` },
    body: JSON.stringify({ event: "maintenance", payload: { in: "1h" } }),
  });
  await notified.body?.cancel();
  assert.deepEqual(await viewer.next("maintenance"), { in: "1h" });
  await publish(fixture.base, "s1", "stream_ended", {
    duration_seconds: 3600,
    reason: "broadcaster_ended",
  });
  assert.equal((await viewer.next("stream_ended")).reason, "broadcaster_ended");
  const closed = await viewer.closed;
  assert.equal(closed.code, 1000);
  for (const frame of viewer.frames.values) {
    assert.deepEqual(Object.keys(frame), ["event", "data"]);
  }

  // Joining after the end: welcomed, no stream_started, the info says ended.
  await using late = await NovaClient.connect(url, viewerClaims("s1", "late"));
  late.send("get_stream_info", { request_id: "r1" });
  const info = await late.next("stream_info");
  assert.equal(info.status, "ended");
  assert.equal(info.duration_seconds, 3600);
  assert.ok(!late.events.includes("stream_started"));
});

Deno.test("nova: viewer_count_changed batched from occupancy, with peak_viewers that never falls while the stream lives, and change", async () => {
  await using fixture = await serve();
  await publish(fixture.base, "s2", "stream_started", STARTED);
  const url = novaUrl(fixture.base, "s2");
  const watcher = await NovaClient.connect(url, viewerClaims("s2", "w"));
  const others = await Promise.all(
    [1, 2, 3].map((n) => NovaClient.connect(url, viewerClaims("s2", `v${n}`))),
  );
  const four = await watcher.next(
    "viewer_count_changed",
    (data) => data.viewer_count === 4,
  );
  assert.equal(four.peak_viewers, 4);
  assert.equal(four.stream_id, "s2");
  assert.ok(!Number.isNaN(Date.parse(four.timestamp)));
  const updates = watcher.frames.values.filter((frame) =>
    frame.event === "viewer_count_changed"
  );
  assert.ok(updates.length < 4, "joins close together are batched");
  assert.equal(
    updates.reduce((sum, frame) => sum + frame.data.change, 0),
    4,
    "the changes add up",
  );
  for (const other of others) await other[Symbol.asyncDispose]();
  const one = await watcher.next(
    "viewer_count_changed",
    (data) => data.viewer_count === 1,
  );
  assert.equal(one.peak_viewers, 4);
  assert.equal(one.change, -3);
  // Everyone leaves, two come back: the stream still lives, its peak stands.
  await watcher[Symbol.asyncDispose]();
  await using back = await NovaClient.connect(url, viewerClaims("s2", "b"));
  await using second = await NovaClient.connect(url, viewerClaims("s2", "c"));
  const again = await back.next(
    "viewer_count_changed",
    (data) => data.viewer_count === 2,
  );
  assert.equal(again.peak_viewers, 4);
  assert.equal((await second.next("viewer_count_changed")).peak_viewers, 4);
});

Deno.test("nova: get_stream_info answers stream_info with its request_id, counts, quality, bitrate, fps and duration", async () => {
  await using fixture = await serve();
  await publish(fixture.base, "s3", "stream_started", STARTED);
  await publish(fixture.base, "s3", "quality_changed", {
    new_quality: "720p",
    new_bitrate_kbps: 3000,
    fps: 30,
  });
  const url = novaUrl(fixture.base, "s3");
  await using viewer = await NovaClient.connect(url, viewerClaims("s3"));
  await using other = await NovaClient.connect(url, viewerClaims("s3", "v2"));
  await viewer.next("viewer_count_changed", (data) => data.viewer_count === 2);
  viewer.send("get_stream_info", { request_id: "req-12345" });
  const info = await viewer.next("stream_info");
  assert.deepEqual(Object.keys(info), [
    "request_id",
    "stream_id",
    "status",
    "viewer_count",
    "peak_viewers",
    "quality",
    "bitrate_kbps",
    "fps",
    "duration_seconds",
    "broadcaster_name",
    "timestamp",
  ]);
  assert.equal(info.request_id, "req-12345");
  assert.equal(info.stream_id, "s3");
  assert.equal(info.status, "active");
  assert.equal(info.viewer_count, 2);
  assert.equal(info.peak_viewers, 2);
  assert.equal(info.quality, "720p");
  assert.equal(info.bitrate_kbps, 3000);
  assert.equal(info.fps, 30);
  assert.equal(typeof info.duration_seconds, "number");
  assert.equal(info.broadcaster_name, "Streamer123");
  assert.ok(!other.events.includes("stream_info"), "only the asker");
});

Deno.test("nova: report_issue is logged and sent to the back-end as a signed report_issue webhook", async () => {
  const received: Record<string, unknown>[] = [];
  let arrived: () => void = () => {};
  const delivered = new Promise<void>((resolve) => arrived = resolve);
  await using backEnd = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      received.push(await request.json());
      arrived();
      return new Response(null, { status: 204 });
    },
  );
  await using fixture = await serveWithConfig({
    webhooks: [{
      url: `http://127.0.0.1:${backEnd.addr.port}/hooks`,
      secret: "nova-webhook-secret",
      events: ["report_issue"],
    }],
  });
  await using viewer = await NovaClient.connect(
    novaUrl(fixture.base, "s4"),
    viewerClaims("s4"),
  );
  const report = {
    "issue_type": "buffering",
    severity: "high",
    description: "Stream is constantly buffering",
    "client_info": { player: "video.js", bandwidth_estimate_kbps: 8000 },
  };
  viewer.send("report_issue", report);
  await delivered;
  const [batch] = received;
  const events = batch?.events as Record<string, unknown>[];
  assert.deepEqual(events, [{
    name: "report_issue",
    channel: "streams:s4",
    user: "viewer-1",
    payload: report,
  }]);
  viewer.send("get_stream_info", { request_id: 7 });
  assert.equal(
    (await viewer.next("stream_info")).request_id,
    7,
    "still open",
  );
});

Deno.test("nova: invalid JSON, a missing field, an unknown event or a binary frame close 1003; over 256 KB closes 1009, under it is read", async () => {
  await using fixture = await serve();
  const url = novaUrl(fixture.base, "s5");
  const cases = [
    "{not json",
    '{"event":"get_stream_info","data":{}}',
    '{"event":"report_issue","data":{"severity":"low"}}',
    '{"event":"dance","data":{}}',
    '{"data":{}}',
    '["pong"]',
  ];
  for (const text of cases) {
    await using viewer = await NovaClient.connect(url, viewerClaims("s5"));
    viewer.sendRaw(text);
    assert.equal((await viewer.closed).code, 1003, text);
  }
  await using binary = await NovaClient.connect(url, viewerClaims("s5"));
  binary.sendRaw(new Uint8Array([1, 2, 3]));
  assert.equal((await binary.closed).code, 1003);
  await using big = await NovaClient.connect(url, viewerClaims("s5"));
  big.send("report_issue", {
    issue_type: "other",
    severity: "low",
    description: "x".repeat(256 * 1024),
  });
  assert.equal((await big.closed).code, 1009);
  await using fits = await NovaClient.connect(url, viewerClaims("s5"));
  fits.send("report_issue", {
    issue_type: "other",
    severity: "low",
    description: "x".repeat(200 * 1024),
  });
  fits.send("get_stream_info", { request_id: "after" });
  assert.equal((await fits.next("stream_info")).request_id, "after");
});

Deno.test("nova: a viewer that stops reading keeps its 100 newest messages; the oldest are dropped and it is told BUFFER_OVERFLOW, recoverable, where the gap is", async () => {
  await using fixture = await serve();
  await publish(fixture.base, "s6", "stream_started", STARTED);
  const slow = await RawClient.connect(
    `${novaUrl(fixture.base, "s6")}?token=${token(viewerClaims("s6"))}`,
  );
  // Reads nothing from here on, while 1000 updates of 60 KB (60 MB) are
  // published: more than the kernel's socket buffers and the default
  // OUTBOUND_BUFFER_BYTES hold, so the backlog fills.
  const pad = "x".repeat(60_000);
  for (let n = 1; n <= 1000; n++) {
    await publish(fixture.base, "s6", "bitrate_update", { n, pad });
  }
  // The end comes while the viewer is still behind: it is sent last, then the close.
  await publish(fixture.base, "s6", "stream_ended", { reason: "done" });
  const { code, texts } = await slow.readUntilClose();
  const seen: number[] = [];
  let overflowAt = -1;
  let overflow: Record<string, unknown> | undefined;
  for (const text of texts) {
    const { event, data } = JSON.parse(text);
    if (event === "bitrate_update") seen.push(data.n);
    if (event === "error") {
      overflow = data;
      overflowAt = seen.length;
    }
  }
  assert.equal(JSON.parse(texts.at(-1) ?? "{}").event, "stream_ended");
  assert.equal(code, 1000, "closed once the backlog, the end last, was sent");
  slow.close();
  assert.equal(overflow?.error_code, "BUFFER_OVERFLOW");
  assert.equal(overflow?.recoverable, true);
  assert.deepEqual(seen, [...seen].sort((a, b) => a - b), "in order");
  const gap = seen.findIndex((n, i) => i > 0 && n !== (seen[i - 1] ?? 0) + 1);
  assert.ok(gap > 0, "the oldest of the backlog were dropped");
  assert.equal(overflowAt, gap, "told where the gap is");
  assert.equal(
    seen.length - gap + 1,
    100,
    "the last 100 kept: 99 updates and the end",
  );
});

Deno.test("nova: at the default heartbeat the first ping comes after 30 s; a silent viewer is closed 1001 at 60 s idle, one that answered once is closed when its next ping goes 10 s unanswered", async () => {
  await using fixture = await serve();
  const url = novaUrl(fixture.base, "s9");
  await using echoing = await NovaClient.connect(url, viewerClaims("s9", "e"));
  await using silent = await NovaClient.connect(url, viewerClaims("s9", "s"));
  const connected = Date.now();
  const elapsed = () => Date.now() - connected;
  const pinged = (client: NovaClient) =>
    client.frames.until(
      (frames) => frames.some((frame) => frame.event === "ping"),
      "the first ping, due 30 s after connecting",
      35_000,
    );
  await pinged(echoing);
  assert.ok(elapsed() >= 29_000, `not before 30 s (${elapsed()} ms)`);
  assert.equal((await echoing.next("ping")).sequence, 1);
  echoing.send("pong", { sequence: 1, timestamp: new Date().toISOString() });
  await pinged(silent);
  assert.equal((await silent.next("ping")).sequence, 1);

  const idle = await settlesWithin(
    silent.closed,
    "the silent viewer's close at 60 s idle",
    35_000,
  );
  assert.equal(idle.code, 1001);
  assert.equal(idle.reason, "idle for 60 s");
  assert.ok(elapsed() >= 59_000, `not before 60 s (${elapsed()} ms)`);
  assert.equal(echoing.socket.readyState, WebSocket.OPEN, "its pong was heard");

  // The second ping, at 60 s, goes unanswered.
  assert.equal((await echoing.next("ping")).sequence, 2);
  const unanswered = await settlesWithin(
    echoing.closed,
    "the echoing viewer's close 10 s after an unanswered ping",
    15_000,
  );
  assert.equal(unanswered.code, 1001);
  assert.equal(unanswered.reason, "ping 2 unanswered for 10 s");
  assert.ok(elapsed() >= 69_000, `not before 70 s (${elapsed()} ms)`);
});

Deno.test("nova: server pings with a rising sequence; an echoing viewer that stops answering, and a silent one, are closed 1001 (intervals shortened so this takes seconds: the test above holds the defaults)", async () => {
  await using fixture = await serve({
    NOVA_PING_INTERVAL_MS: "1000",
    NOVA_PING_TIMEOUT_MS: "1000",
    NOVA_IDLE_TIMEOUT_MS: "4000",
  });
  const url = novaUrl(fixture.base, "s7");
  await using echoing = await NovaClient.connect(url, viewerClaims("s7", "e"));
  await using silent = await NovaClient.connect(url, viewerClaims("s7", "s"));
  const first = await echoing.next("ping");
  assert.equal(first.sequence, 1);
  assert.ok(!Number.isNaN(Date.parse(first.timestamp)));
  echoing.send("pong", { sequence: 1, timestamp: new Date().toISOString() });
  assert.equal((await echoing.next("ping")).sequence, 2);
  // From here on it answers nothing: the ping timeout closes it.
  assert.equal((await echoing.closed).code, 1001);
  assert.equal((await silent.next("ping")).sequence, 1);
  assert.equal((await silent.closed).code, 1001, "idle");
});
