/**
 * The process as users run it: `main.ts` in a child process, configured by
 * environment, stopped by a signal, its logs read back.
 */

import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { TestClient } from "./support/client.ts";
import { LineReader, mainCommand, spawnServer } from "./support/process.ts";
import { TEST_API_KEY, TEST_SECRET, token } from "./support/server.ts";

Deno.test("invalid configuration: every problem listed, exit 1, secrets not echoed", async () => {
  const output = await mainCommand({
    API_KEYS: "",
    PORT: "http",
    LOG_ENCODING: "yaml",
    JWT_SECRET: "",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 1);
  for (const name of ["JWT_SECRET", "API_KEYS", "PORT", "LOG_ENCODING"]) {
    assert.match(stderr, new RegExp(name));
  }
  assert.equal(new TextDecoder().decode(output.stdout), "");

  const withSecret = await mainCommand({
    JWT_SECRET: "super-secret-value",
    API_KEYS: "key-value-123",
    PORT: "nope",
  }).output();
  const text = new TextDecoder().decode(withSecret.stderr);
  assert.equal(withSecret.code, 1);
  assert.ok(!text.includes("super-secret-value"));
  assert.ok(!text.includes("key-value-123"));
});

Deno.test("CONFIG_FILE: every problem with its JSON path, exit 1; a missing file says so", async () => {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        namespaces: { chat: { historySize: -1, presence: "yes", typo: 1 } },
      }),
    );
    const output = await mainCommand({
      JWT_SECRET: TEST_SECRET,
      API_KEYS: TEST_API_KEY,
      CONFIG_FILE: file,
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 1);
    assert.match(
      stderr,
      /CONFIG_FILE namespaces\.chat\.historySize: must not be negative/,
    );
    assert.match(
      stderr,
      /CONFIG_FILE namespaces\.chat\.presence: must be true or false/,
    );
    assert.match(
      stderr,
      /CONFIG_FILE namespaces\.chat: unknown setting "typo"/,
    );
  } finally {
    await Deno.remove(file);
  }
  const missing = await mainCommand({
    JWT_SECRET: TEST_SECRET,
    API_KEYS: TEST_API_KEY,
    CONFIG_FILE: "/nonexistent/broadcaster.json",
  }).output();
  assert.equal(missing.code, 1);
  assert.match(new TextDecoder().decode(missing.stderr), /cannot be read/);
});

Deno.test("an address the server cannot listen on: one clear line, exit 1", async () => {
  const base = { JWT_SECRET: TEST_SECRET, API_KEYS: TEST_API_KEY, PORT: "0" };
  for (
    const [host, reason] of [
      // TEST-NET-1 (RFC 5737): never an address of this machine.
      ["192.0.2.1", /no such address on this machine/],
      ["not-a-host.invalid", /HOST does not resolve/],
    ] as const
  ) {
    const output = await mainCommand({ ...base, HOST: host }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 1, stderr);
    assert.match(stderr, reason);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
  }
});

Deno.test("a weak JWT_SECRET: refused, or with ALLOW_WEAK_JWT_SECRET=true a warning at start", async () => {
  const refused = await mainCommand({
    JWT_SECRET: "short-go-secret",
    API_KEYS: TEST_API_KEY,
  }).output();
  assert.equal(refused.code, 1);
  assert.match(
    new TextDecoder().decode(refused.stderr),
    /JWT_SECRET must be at least 32 bytes.*openssl rand -base64 32/,
  );
  await using allowed = await spawnServer({
    JWT_SECRET: "short-go-secret",
    ALLOW_WEAK_JWT_SECRET: "true",
  });
  const warning = allowed.stdout.lines.find((line) =>
    line.includes("ALLOW_WEAK_JWT_SECRET")
  );
  assert.ok(warning !== undefined, allowed.stdout.lines.join("\n"));
  assert.equal(JSON.parse(warning).level, "warning");
  assert.ok(!warning.includes("short-go-secret"));
});

Deno.test("deno task dev: SIGTERM ends the whole task, file watcher included", async () => {
  // The dev task's own command (deno.json), run directly so that a
  // regression is one process to kill, not a task and its watcher.
  const child = new Deno.Command(Deno.execPath(), {
    args: denoJson.tasks.dev.command.split(" ").slice(1),
    cwd: new URL("..", import.meta.url).pathname,
    env: { NO_COLOR: "1", PORT: "0", LOG_ENCODING: "json" },
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const stdout = new LineReader(child.stdout);
  await stdout.until(/listening on/);
  child.kill("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const status = await Promise.race([
    child.status,
    new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), 10_000);
    }),
  ]);
  clearTimeout(timer);
  if (status === null) child.kill("SIGKILL");
  await stdout.rest();
  assert.ok(status !== null, "the task still runs 10 s after SIGTERM");
  assert.ok(stdout.lines.some((line) => line.includes("stopped")));
});

Deno.test("unknown flags: the usage text and exit 2", async () => {
  const output = await mainCommand({}, ["--bogus"]).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 2);
  assert.match(stderr, /Unknown option '--bogus'/);
  assert.match(stderr, /Usage: broadcaster/);
  assert.ok(!stderr.includes("Uncaught"));
});

Deno.test("--help and --version need no permissions at all", async () => {
  for (const flag of ["--help", "--version"]) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", new URL("../main.ts", import.meta.url).pathname, flag],
      env: { NO_COLOR: "1" },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(
      output.code,
      0,
      `${flag}: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
});

Deno.test("--help and --version answer without configuration", async () => {
  const help = await mainCommand({}, ["--help"]).output();
  assert.equal(help.code, 0);
  assert.match(new TextDecoder().decode(help.stdout), /Usage: broadcaster/);
  const version = await mainCommand({}, ["--version"]).output();
  assert.equal(version.code, 0);
  assert.match(new TextDecoder().decode(version.stdout), /^\d+\.\d+\.\d+\n$/);
});

Deno.test("SIGTERM: clients get 1001, the process exits 0; JSON logs carry no secret or token", async () => {
  const { child, stdout, base, websocketUrl } = await spawnServer({
    LOG_LEVEL: "debug",
  });

  const secretToken = await token();
  const client = await TestClient.connect(
    `${websocketUrl}?token=${secretToken}`,
  );
  await client.ok("auth", { token: secretToken });
  await client.ok("subscribe", { channel: "room1" });
  const refused = await TestClient.connect(websocketUrl);
  await refused.request("auth", { token: `${secretToken}x` });
  await refused[Symbol.asyncDispose]();
  const published = await fetch(`${base}/publish`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_API_KEY}` },
    body: JSON.stringify({ channel: "room1", event: "e", payload: 1 }),
  });
  assert.equal(published.status, 200);
  await published.body?.cancel();
  assert.equal((await client.broadcast()).payload, 1);
  await stdout.until(/auth refused/);

  const started = performance.now();
  child.kill("SIGTERM");
  assert.equal((await client.closed).code, 1001);
  const status = await child.status;
  assert.equal(status.code, 0);
  assert.ok(performance.now() - started < 10_000);

  const lines = await stdout.rest();
  for (const line of lines) {
    const record = JSON.parse(line);
    assert.ok(
      typeof record.timestamp === "string" && record.level && record.message,
      line,
    );
    assert.ok(!line.includes(secretToken.split(".")[2] ?? "?"), line);
    assert.ok(!line.includes(TEST_SECRET), line);
    assert.ok(!line.includes(TEST_API_KEY), line);
  }
  assert.ok(lines.some((line) => /connection .* opened/.test(line)));
  const rest = lines.map((line) => JSON.parse(line)).find((record) =>
    record.path === "/broadcaster/publish"
  );
  assert.deepEqual(
    {
      method: rest?.method,
      status: rest?.status,
      timed: typeof rest?.durationMs,
    },
    { method: "POST", status: 200, timed: "number" },
  );
  assert.ok(lines.some((line) => /closed with 1001/.test(line)));
  // Deno may fire close twice: each connection is still logged closed once.
  const closedIds = lines.map((line) => JSON.parse(line))
    .filter((record) => /closed with/.test(record.message))
    .map((record) => record.connectionId);
  assert.equal(closedIds.length, 2);
  assert.equal(new Set(closedIds).size, 2);
  await child.stderr.cancel();
});

Deno.test("--healthcheck answers 0 while the local server is healthy, 1 when it is not", async () => {
  await using server = await spawnServer();
  const port = new URL(server.base).port;
  const check = () =>
    mainCommand({ PORT: port, HOST: "127.0.0.1" }, ["--healthcheck"]).output();
  assert.equal((await check()).code, 0);
  server.child.kill("SIGTERM");
  await server.child.status;
  assert.equal((await check()).code, 1);
});
