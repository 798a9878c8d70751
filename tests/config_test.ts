/** Configuration: defaults, every problem at once, no values in messages. */

import assert from "node:assert/strict";
import { parseConfig } from "../src/config.ts";

const REQUIRED = {
  JWT_SECRET: "s3cr3t-value-s3cr3t-value-s3cr3t-value",
  API_KEYS: "publisher-key-0001",
};

Deno.test("defaults match the original and the spec, HISTORY_SIZE raised for lossless reconnects", () => {
  const result = parseConfig(REQUIRED);
  assert.ok(result.ok);
  assert.deepEqual(result.config, {
    port: 8000,
    host: "0.0.0.0",
    jwtSecret: REQUIRED.JWT_SECRET,
    apiKeys: [REQUIRED.API_KEYS],
    basePath: "/broadcaster",
    rtcPath: "/ws",
    novaPath: "/api/v1/streams",
    novaHeartbeat: {
      pingIntervalMs: 30_000,
      pingTimeoutMs: 10_000,
      idleTimeoutMs: 60_000,
    },
    logEncoding: "console",
    logLevel: "info",
    allowedOrigins: "*",
    maxMessageBytes: 65536,
    maxSubscriptions: 128,
    rateLimit: 100,
    outboundBufferBytes: 1048576,
    idleTimeoutSeconds: 60,
    protection: {
      authTimeoutSeconds: 10,
      maxConnections: 0,
      maxConnectionsPerUser: 0,
      maxPendingPerAddress: 100,
      requestTimeoutSeconds: 10,
      trustProxy: false,
    },
    // SPEC §4 says 100: two seconds at 50 messages/s, too little to cover
    // a reconnect through a flaky network (§7). 1000 covers 20 s.
    historySize: 1000,
    historyTtlSeconds: 300,
    engine: { kind: "memory" },
    presence: {
      enabled: true,
      maxMembers: 1000,
      leaveDelayMs: 5000,
      occupancyIntervalMs: 100,
    },
    namespaces: {},
    webhooks: [],
    users: [],
    apps: [],
    console: true,
    metricsToken: undefined,
  });
});

Deno.test("every problem is listed at once, and none quotes a value", () => {
  const result = parseConfig({
    JWT_SECRET: "",
    API_KEYS: " , ",
    PORT: "70000",
    LOG_ENCODING: "xml",
    LOG_LEVEL: "loud",
    BASE_PATH: "no-slash",
    MAX_SUBSCRIPTIONS: "-1",
    ENGINE: "etcd",
  });
  assert.ok(!result.ok);
  assert.deepEqual(result.problems, [
    "PORT must be a whole number from 0 to 65535",
    "JWT_SECRET is required",
    "API_KEYS must hold at least one key (comma-separated)",
    'BASE_PATH must be "" or a path starting with "/"',
    'LOG_ENCODING must be "console" or "json"',
    "LOG_LEVEL must be one of trace, debug, info, warning, error, fatal",
    "MAX_SUBSCRIPTIONS must be a whole number from 1 to 1000000",
    'ENGINE must be "memory" or "redis"',
  ]);
});

Deno.test("missing required settings are named", () => {
  const result = parseConfig({});
  assert.ok(!result.ok);
  assert.deepEqual(result.problems, [
    "JWT_SECRET is required",
    "API_KEYS is required (comma-separated keys)",
  ]);
});

Deno.test("API_KEYS and ALLOWED_ORIGINS are comma-separated lists", () => {
  const result = parseConfig({
    ...REQUIRED,
    API_KEYS: " k1, k2 ,,k3",
    ALLOWED_ORIGINS: "https://a.example, https://b.example",
  });
  assert.ok(result.ok);
  assert.deepEqual(result.config.apiKeys, ["k1", "k2", "k3"]);
  assert.deepEqual(result.config.allowedOrigins, [
    "https://a.example",
    "https://b.example",
  ]);
});

Deno.test("BASE_PATH may be empty; a trailing slash is dropped", () => {
  const empty = parseConfig({ ...REQUIRED, BASE_PATH: "" });
  assert.ok(empty.ok);
  assert.equal(empty.config.basePath, "");
  const slashed = parseConfig({ ...REQUIRED, BASE_PATH: "/ws/" });
  assert.ok(slashed.ok);
  assert.equal(slashed.config.basePath, "/ws");
});

Deno.test('RTC_PATH: /ws by default, off with "", refused where it would shadow a route of BASE_PATH', () => {
  const off = parseConfig({ ...REQUIRED, RTC_PATH: "" });
  assert.ok(off.ok);
  assert.equal(off.config.rtcPath, "");
  const moved = parseConfig({ ...REQUIRED, RTC_PATH: "/rtc/ws/" });
  assert.ok(moved.ok);
  assert.equal(moved.config.rtcPath, "/rtc/ws");
  const beside = parseConfig({ ...REQUIRED, RTC_PATH: "/broadcaster/rtc" });
  assert.ok(beside.ok, "under BASE_PATH but no route of it");
  for (
    const [env, problem] of [
      [
        { RTC_PATH: "ws" },
        'RTC_PATH must be "" (off) or a path starting with "/"',
      ],
      [
        { RTC_PATH: "/broadcaster/websocket" },
        'RTC_PATH "/broadcaster/websocket" clashes with a route under BASE_PATH "/broadcaster"',
      ],
      [
        { RTC_PATH: "/broadcaster" },
        'RTC_PATH "/broadcaster" clashes with a route under BASE_PATH "/broadcaster"',
      ],
      [
        { RTC_PATH: "/publish", BASE_PATH: "" },
        'RTC_PATH "/publish" clashes with a route under BASE_PATH ""',
      ],
    ] as const
  ) {
    const parsed = parseConfig({ ...REQUIRED, ...env });
    assert.ok(!parsed.ok);
    assert.ok(parsed.problems.includes(problem), parsed.problems.join("\n"));
  }
});

Deno.test('NOVA_PATH: /api/v1/streams by default, off with "", refused where it would overlap RTC_PATH', () => {
  const off = parseConfig({ ...REQUIRED, NOVA_PATH: "" });
  assert.ok(off.ok);
  assert.equal(off.config.novaPath, "");
  const clash = parseConfig({ ...REQUIRED, NOVA_PATH: "/ws" });
  assert.ok(!clash.ok);
  assert.ok(clash.problems.includes('RTC_PATH "/ws" overlaps NOVA_PATH "/ws"'));
  const heartbeat = parseConfig({ ...REQUIRED, NOVA_PING_INTERVAL_MS: "1000" });
  assert.ok(heartbeat.ok);
  assert.equal(heartbeat.config.novaHeartbeat.pingIntervalMs, 1000);
});

Deno.test("empty variables take their defaults; LOG_LEVEL accepts warn", () => {
  const result = parseConfig({ ...REQUIRED, PORT: "", LOG_LEVEL: "WARN" });
  assert.ok(result.ok);
  assert.equal(result.config.port, 8000);
  assert.equal(result.config.logLevel, "warning");
});

Deno.test("ENGINE=redis needs a redis:// or rediss:// REDIS_URL, listed with the other problems", () => {
  const missing = parseConfig({ ...REQUIRED, ENGINE: "redis", PORT: "x" });
  assert.ok(!missing.ok);
  assert.deepEqual(missing.problems, [
    "PORT must be a whole number from 0 to 65535",
    "REDIS_URL is required when ENGINE=redis",
  ]);
  const wrong = parseConfig({
    ...REQUIRED,
    ENGINE: "redis",
    REDIS_URL: "http://x",
  });
  assert.ok(!wrong.ok);
  assert.deepEqual(wrong.problems, [
    "REDIS_URL must be a redis:// or rediss:// URL",
  ]);
  const good = parseConfig({
    ...REQUIRED,
    ENGINE: "redis",
    REDIS_URL: "rediss://:secret@redis.example:6380/0",
  });
  assert.ok(good.ok);
  assert.deepEqual(good.config.engine, {
    kind: "redis",
    url: "rediss://:secret@redis.example:6380/0",
  });
});

Deno.test("a JWT_SECRET under 32 bytes is refused, naming the command that makes one", () => {
  const weak = parseConfig({ ...REQUIRED, JWT_SECRET: "x", PORT: "nope" });
  assert.ok(!weak.ok);
  // Listed with the other problems, never quoting the value.
  assert.equal(weak.problems.length, 2);
  assert.match(
    weak.problems.join("\n"),
    /JWT_SECRET must be at least 32 bytes/,
  );
  assert.match(weak.problems.join("\n"), /openssl rand -base64 32/);
  // Bytes, not characters: 11 × "é" is 22 bytes.
  assert.ok(!parseConfig({ ...REQUIRED, JWT_SECRET: "é".repeat(11) }).ok);
  assert.ok(parseConfig({ ...REQUIRED, JWT_SECRET: "é".repeat(16) }).ok);
});

Deno.test("ALLOW_WEAK_JWT_SECRET=true starts with a short secret, with a warning; --dev needs neither", () => {
  const allowed = parseConfig({
    ...REQUIRED,
    JWT_SECRET: "short-go-secret",
    ALLOW_WEAK_JWT_SECRET: "true",
  });
  assert.ok(allowed.ok);
  assert.equal(allowed.warnings.length, 1);
  assert.match(allowed.warnings[0] ?? "", /ALLOW_WEAK_JWT_SECRET=true/);
  assert.ok(!(allowed.warnings[0] ?? "").includes("short-go-secret"));
  const dev = parseConfig({ ...REQUIRED, JWT_SECRET: "x" }, {
    development: true,
  });
  assert.ok(dev.ok);
  assert.deepEqual(dev.warnings, []);
});

Deno.test("API keys under 16 characters are warned about, not refused", () => {
  const result = parseConfig({
    ...REQUIRED,
    API_KEYS: "k1,publisher-key-0002",
  });
  assert.ok(result.ok);
  assert.equal(result.warnings.length, 1);
  assert.match(
    result.warnings[0] ?? "",
    /1 of the API_KEYS is shorter than 16/,
  );
  assert.ok(!(result.warnings[0] ?? "").includes("k1"));
  const strong = parseConfig(REQUIRED);
  assert.ok(strong.ok);
  assert.deepEqual(strong.warnings, []);
});
