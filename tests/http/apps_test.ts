/**
 * Integration, SPEC §10: apps. Each is served under its own path and fully
 * isolated (tokens, keys, channels, history, presence), also when apps
 * share one real Redis; bad app settings are refused at start.
 */

import assert from "node:assert/strict";
import { mintToken } from "../../src/auth/jwt.ts";
import { parseConfig } from "../../src/config.ts";
import { TestClient } from "../support/client.ts";
import { RedisServer, redisTest } from "../support/redis.ts";
import {
  DEFAULT_CLAIMS,
  restPublish,
  serveWithConfig,
  TEST_API_KEY,
  TEST_SECRET,
  type TestServer,
  token,
} from "../support/server.ts";

const WORLD_SECRET = "world-secret-world-secret-world-secret";
const WORLD_KEY = "world-api-key-0001";

async function withApps(
  run: (fixture: TestServer, world: string) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  await using fixture = await serveWithConfig({
    apps: [{
      id: "world",
      path: "/world",
      jwtSecret: WORLD_SECRET,
      apiKeys: [WORLD_KEY],
      namespaces: { chat: { historySize: 1 } },
    }],
  }, env);
  const origin = new URL(fixture.base).origin;
  await run(fixture, `${origin}/world`);
}

function worldToken(sub = "alice"): string {
  return mintToken(WORLD_SECRET, { ...DEFAULT_CLAIMS, sub }, Date.now());
}

async function isolated(fixture: TestServer, world: string) {
  const worldSocket = `${world.replace(/^http/, "ws")}/websocket`;
  // Each app's tokens and keys, refused by the other.
  const foreign = await fetch(
    `${worldSocket.replace(/^ws/, "http")}?token=${await token()}`,
    {
      headers: {
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-version": "13",
      },
    },
  );
  await foreign.body?.cancel();
  assert.equal(foreign.status, 401, "a default-app token at /world");
  const wrongKey = await restPublish(world, { channel: "room1", event: "e" });
  await wrongKey.body?.cancel();
  assert.equal(wrongKey.status, 401, "the default app's key at /world");
  const otherKey = await fetch(`${fixture.base}/publish`, {
    method: "POST",
    headers: { authorization: `Bearer ${WORLD_KEY}` },
    body: JSON.stringify({ channel: "room1", event: "e" }),
  });
  await otherKey.body?.cancel();
  assert.equal(otherKey.status, 401, "world's key at the default app");

  // Channels, history and presence apart, though the names are the same.
  await using inWorld = await TestClient.connect(
    `${worldSocket}?token=${worldToken()}`,
  );
  await inWorld.ok("subscribe", { channel: "room1" });
  await using inDefault = await TestClient.authed(fixture.websocketUrl);
  await inDefault.ok("subscribe", { channel: "room1" });
  const published = await fetch(`${world}/publish`, {
    method: "POST",
    headers: { authorization: `Bearer ${WORLD_KEY}` },
    body: JSON.stringify({
      channel: "room1",
      event: "hello-world",
      payload: 1,
    }),
  });
  assert.equal(published.status, 200);
  await published.body?.cancel();
  assert.equal((await inWorld.broadcast()).event, "hello-world");
  await (await restPublish(fixture.base, {
    channel: "room1",
    event: "hello-default",
  }))
    .body?.cancel();
  assert.equal((await inDefault.broadcast()).event, "hello-default");
  const worldHistory = await inWorld.ok("history", { channel: "room1" });
  assert.deepEqual(
    (worldHistory.messages as { event: string }[]).map((m) => m.event),
    ["hello-world"],
  );
  assert.deepEqual(await inWorld.ok("presenceStats", { channel: "room1" }), {
    connections: 1,
    users: 1,
  });
  const health = await fetch(`${world}/health`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
}

Deno.test("apps: each under its own path, isolated from the default app", async () => {
  await withApps(isolated);
});

redisTest("apps share one Redis without sharing a key", async () => {
  await using redis = await RedisServer.start();
  await withApps(async (fixture, world) => {
    await isolated(fixture, world);
    const keys = (await redis.command("KEYS", "*")) as string[];
    assert.ok(
      keys.some((key) => key.startsWith("broadcaster:app:world:{room1}")),
    );
    assert.ok(keys.some((key) => key.startsWith("broadcaster:{room1}")));
  }, { ENGINE: "redis", REDIS_URL: redis.url });
});

/** The problems the test environment has with `file` as its CONFIG_FILE. */
async function problemsWith(file: unknown): Promise<readonly string[]> {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(path, JSON.stringify(file));
    const parsed = parseConfig({
      JWT_SECRET: TEST_SECRET,
      API_KEYS: TEST_API_KEY,
      CONFIG_FILE: path,
    }, { readFile: (name) => Deno.readTextFileSync(name) });
    assert.ok(!parsed.ok, "refused");
    return parsed.problems;
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("bad apps are refused at start, each problem with its JSON path", async () => {
  const app = (id: string, path: string) => ({
    id,
    path,
    jwtSecret: WORLD_SECRET,
    apiKeys: [WORLD_KEY],
  });
  assert.deepEqual(
    await problemsWith({
      apps: [
        app("world", "/world"),
        app("world", "/world/inner"),
        app("base", "/broadcaster"),
        { id: "Bad Id", path: "world", jwtSecret: "short", apiKeys: [] },
      ],
    }),
    [
      "CONFIG_FILE apps.3.id: must be 1 to 64 of a-z, 0-9, _ and -",
      "CONFIG_FILE apps.3.path: must be like /world: segments of letters, digits, _ and -",
      "CONFIG_FILE apps.3.jwtSecret: must be at least 32 bytes (openssl rand -base64 32)",
      "CONFIG_FILE apps.3.apiKeys: must hold at least one key",
    ],
  );
  assert.deepEqual(
    await problemsWith({
      apps: [
        app("world", "/world"),
        app("world", "/world/inner"),
        app("base", "/broadcaster"),
      ],
    }),
    [
      `CONFIG_FILE apps.1.id: "world" is apps.0's already`,
      `CONFIG_FILE apps.1.path: "/world/inner" overlaps apps.0's "/world"`,
    ],
  );
  assert.deepEqual(
    await problemsWith({
      apps: [{
        ...app("users", "/users"),
        users: [
          { name: "joe", secret: "a", permissions: ["READ"] },
          { name: "joe", secret: "b", permissions: ["WRITE"] },
          { name: "j".repeat(129), secret: "c", permissions: ["READ"] },
          { name: "bell\u0007", secret: "d", permissions: ["READ"] },
        ],
      }],
    }),
    [
      "CONFIG_FILE apps.0.users.2.name: must be 1 to 128 characters, no control characters",
      "CONFIG_FILE apps.0.users.3.name: must be 1 to 128 characters, no control characters",
    ],
  );
  assert.deepEqual(
    await problemsWith({
      apps: [{
        ...app("users", "/users"),
        users: [
          { name: "joe", secret: "a", permissions: ["READ"] },
          { name: "joe", secret: "b", permissions: ["WRITE"] },
        ],
      }],
    }),
    [`CONFIG_FILE apps.0.users.1.name: "joe" is users.0's already`],
  );
  assert.deepEqual(
    await problemsWith({ apps: [app("rtc", "/ws")] }),
    ['RTC_PATH "/ws" overlaps CONFIG_FILE apps.0.path "/ws"'],
  );
  assert.deepEqual(
    await problemsWith({ apps: [app("base", "/broadcaster/x")] }),
    [
      'CONFIG_FILE apps.0.path: "/broadcaster/x" overlaps BASE_PATH "/broadcaster"',
    ],
  );
});
