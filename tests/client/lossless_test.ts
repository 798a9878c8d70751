/**
 * SPEC §7 with the SDK's default options: every message exactly once, in
 * order, and no `onReset`, through a network that keeps failing. Each test
 * runs for real time (the cuts and stalls are the network's, not a clock's),
 * with a publisher at 50 messages a second.
 */

import assert from "node:assert/strict";
import { BroadcasterClient } from "../../src/client/mod.ts";
import { Observed } from "../support/observed.ts";
import { spawnServer } from "../support/process.ts";
import { CuttingProxy } from "../support/proxy.ts";
import { RedisServer, redisTest } from "../support/redis.ts";
import { restPublish, serve, token } from "../support/server.ts";

/** The publisher's pace (SPEC §7). */
const PER_SECOND = 50;

/** What a subscriber received, when it was told to reset, and how long it was away. */
interface Receiver {
  readonly client: BroadcasterClient;
  readonly received: Observed<number>;
  readonly resets: number[];
  /** Each time from losing the connection to being connected again, in ms. */
  readonly away: number[];
}

/** A client with the default options on `url`, subscribed to room1 and ready. */
async function receiver(url: string): Promise<Receiver> {
  const received = new Observed<number>();
  const resets: number[] = [];
  const away: number[] = [];
  let lost: number | undefined;
  // No options but the URL, the token and an observer: the defaults are what is tested.
  const client = new BroadcasterClient({
    url,
    token: () => token(),
    onStateChange: (state) => {
      if (state === "disconnected") lost ??= performance.now();
      if (state === "connected" && lost !== undefined) {
        away.push(performance.now() - lost);
        lost = undefined;
      }
    },
  });
  await client.subscribe(
    "room1",
    (message) => received.push(message.payload as number),
    { onReset: () => resets.push(received.values.length) },
  ).ready;
  return { client, received, resets, away };
}

/**
 * Publishes `count` messages over REST at {@linkcode PER_SECOND}, on a
 * schedule rather than a delay after each, so slow answers do not slow the
 * rate; `base()` says where each goes (a node may die meanwhile).
 */
async function publishPaced(
  base: () => string,
  count: number,
  onEach: (index: number) => void = () => {},
): Promise<void> {
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / PER_SECOND;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    onEach(i);
    const response = await restPublish(base(), {
      channel: "room1",
      event: "n",
      payload: i,
    });
    assert.equal(response.status, 200, await response.text());
  }
}

/** Every message once, in order, and no reset; the figures go to the test's output. */
async function assertLossless(receiving: Receiver, count: number) {
  const { client, received, resets, away } = receiving;
  await received.until(
    (values) => values.length >= count,
    `${count} messages`,
    30_000,
  );
  assert.deepEqual(resets, [], "onReset was never called");
  assert.deepEqual(received.values, Array.from({ length: count }, (_, i) => i));
  console.log(
    `${count} messages exactly once; ${away.length} reconnects, away ${
      Math.round(Math.max(0, ...away))
    } ms at most, ${
      Math.round(away.reduce((sum, ms) => sum + ms, 0) / away.length)
    } ms on average`,
  );
  await client.close();
}

/** A proxy URL in front of `target`'s WebSocket endpoint. */
function through(proxy: CuttingProxy, websocketUrl: string): string {
  return websocketUrl.replace(/:\d+\//, `:${proxy.port}/`);
}

Deno.test("a cut every second at 50 messages/s for 30 s: every message exactly once, in order, no reset", async () => {
  await using fixture = await serve();
  using proxy = new CuttingProxy(Number(new URL(fixture.base).port));
  const receiving = await receiver(through(proxy, fixture.websocketUrl));
  const cutter = setInterval(() => proxy.cutAll(), 1000);
  try {
    await publishPaced(() => fixture.base, 30 * PER_SECOND);
  } finally {
    clearInterval(cutter);
  }
  assert.ok(proxy.accepted >= 25, `reconnected ${proxy.accepted} times`);
  await assertLossless(receiving, 30 * PER_SECOND);
});

Deno.test("random cuts every 0.2–3 s, new connections sometimes stalled 0.5–2 s: every message exactly once, in order, no reset", async () => {
  await using fixture = await serve();
  using proxy = new CuttingProxy(Number(new URL(fixture.base).port), {
    // One new connection in three waits before it reaches the server.
    stallMs: () => Math.random() < 1 / 3 ? 500 + Math.random() * 1500 : 0,
  });
  const receiving = await receiver(through(proxy, fixture.websocketUrl));
  let cutter: ReturnType<typeof setTimeout> | undefined;
  const cutLater = () => {
    cutter = setTimeout(() => {
      proxy.cutAll();
      cutLater();
    }, 200 + Math.random() * 2800);
  };
  cutLater();
  try {
    await publishPaced(() => fixture.base, 30 * PER_SECOND);
  } finally {
    clearTimeout(cutter);
  }
  assert.ok(proxy.accepted >= 10, `reconnected ${proxy.accepted} times`);
  await assertLossless(receiving, 30 * PER_SECOND);
});

redisTest(
  "two nodes on Redis: the client's node is killed, it reconnects through the proxy to the other, and misses nothing",
  async () => {
    await using redis = await RedisServer.start();
    const env = { ENGINE: "redis", REDIS_URL: redis.url };
    await using survivor = await serve(env);
    await using doomed = await spawnServer(env);
    using proxy = new CuttingProxy(Number(new URL(doomed.base).port));
    const receiving = await receiver(through(proxy, doomed.websocketUrl));
    const count = 10 * PER_SECOND;
    // The publisher uses the survivor throughout; a third in, the client's
    // node dies at once (no close frames), and the balancer moves on.
    await publishPaced(() => survivor.base, count, (index) => {
      if (index !== Math.floor(count / 3)) return;
      doomed.child.kill("SIGKILL");
      proxy.target = Number(new URL(survivor.base).port);
    });
    assert.ok(proxy.accepted >= 2, "reconnected to the other node");
    await assertLossless(receiving, count);
  },
);
