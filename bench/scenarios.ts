/**
 * The benchmark's scenarios. Each runs against a fresh server process and
 * returns its figures; server CPU and memory come from `/proc`, so only the
 * server's own work counts.
 *
 * @module
 */

import { mintToken } from "../src/auth/jwt.ts";
import {
  atRate,
  BenchClient,
  DeliveryLog,
  NovaBenchClient,
  now,
  pool,
  quantile,
  RtcBenchClient,
  timedPayload,
  waitFor,
} from "./load.ts";
import {
  BENCH_API_KEY,
  BENCH_SECRET,
  type ServerUnderTest,
} from "./servers.ts";

/** Sizes of every scenario, all settable by flags. */
export interface ScenarioSizes {
  /** Fan-out: subscribers on the one channel. */
  readonly subscribers: number;
  /** Fan-out: publishes per second. */
  readonly rate: number;
  /** Seconds of publishing, in fan-out and REST. */
  readonly duration: number;
  /** Payload bytes of each published message. */
  readonly payloadBytes: number;
  /** Many-channels and idle: connections, each on its own channel. */
  readonly connections: number;
  /** Many-channels: publishes per second, spread over the channels. */
  readonly channelRate: number;
  /**
   * Many-channels: seconds of publishing. Longer than fan-out's: a shorter
   * window mostly measured the garbage collection of setting up its 5000
   * connections (5 s: 1.3–1.5× the floor, run to run; 15 s: 0.95–1.1×).
   */
  readonly channelDuration: number;
  /** Connection setup: how many in all, and how many at once. */
  readonly setups: number;
  readonly setupParallel: number;
  /** REST: concurrent publishers, for `duration` seconds. */
  readonly restConcurrency: number;
  /** Reconnect storm: clients that reconnect at once. */
  readonly stormClients: number;
  /** Reconnect storm: messages each of them recovers. */
  readonly stormBacklog: number;
  /** Patterns: pattern subscriptions, one per channel published to. */
  readonly patterns: number;
  /** Presence: members of the one crowded channel. */
  readonly presenceMembers: number;
  /** Presence: connections that join and leave it, one after another (`setupParallel` at once). */
  readonly presenceChurn: number;
  /** Nova: viewers of the one stream. */
  readonly novaViewers: number;
  /** Nova: viewers joining and leaving it per second, for `duration` seconds. */
  readonly novaChurn: number;
}

/** The defaults of the issue that defined the benchmark. */
export const DEFAULT_SIZES: ScenarioSizes = {
  subscribers: 1000,
  rate: 40,
  duration: 5,
  payloadBytes: 100,
  connections: 5000,
  channelRate: 1000,
  channelDuration: 15,
  setups: 2000,
  setupParallel: 50,
  restConcurrency: 16,
  stormClients: 1000,
  stormBacklog: 100,
  patterns: 10_000,
  presenceMembers: 5000,
  presenceChurn: 1000,
  novaViewers: 5000,
  novaChurn: 200,
};

/** Figures of one scenario on one server, by name (units in the name). */
export type Figures = Record<string, number>;

/** Channels one publisher's token names at most, to keep its `auth` frame under 64 KiB. */
const CHANNELS_PER_PUBLISHER = 2000;

function token(channels: string[], scope: string[], sub = "bench"): string {
  return mintToken(BENCH_SECRET, {
    sub,
    authorizedChannels: channels,
    scope,
    ttlSeconds: 3600,
  }, Date.now());
}

async function connect(
  server: ServerUnderTest,
  credentials: string,
  channel: string | null,
): Promise<BenchClient> {
  const client = await BenchClient.open(server.websocketUrl);
  await client.request("auth", { token: credentials });
  if (channel !== null) await client.request("subscribe", { channel });
  return client;
}

async function closeAll(clients: BenchClient[]): Promise<void> {
  await pool(
    clients.length,
    200,
    (i) => clients[i]?.close() ?? Promise.resolve(),
  );
}

function settle(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

function deliveryFigures(
  log: DeliveryLog,
  expected: number,
  cpuSeconds: number,
  elapsedMs: number,
): Figures {
  return {
    cpuPerDeliveryUs: (cpuSeconds * 1e6) / Math.max(1, log.delivered),
    deliveriesPerSecond: log.delivered / (elapsedMs / 1000),
    latencyP50Ms: quantile(log.latencies, 0.5),
    latencyP99Ms: quantile(log.latencies, 0.99),
    latencyMaxMs: quantile(log.latencies, 1),
    lost: expected - log.delivered,
    seqGaps: log.gaps,
  };
}

/** Anything whose CPU time can be read: a server process, or Redis. */
interface Measured {
  cpuSeconds(): Promise<number>;
}

async function totalCpu(processes: readonly Measured[]): Promise<number> {
  const each = await Promise.all(
    processes.map((process) => process.cpuSeconds()),
  );
  return each.reduce((sum, seconds) => sum + seconds, 0);
}

/**
 * Publishes `count` messages at `rate`/s with `publish(i)`, waits for the
 * deliveries, and measures the servers' CPU over exactly that span.
 */
async function measureDeliveries(
  servers: readonly Measured[],
  log: DeliveryLog,
  options: { count: number; rate: number; expected: number },
  publish: (index: number) => void,
): Promise<Figures> {
  const cpuBefore = await totalCpu(servers);
  const started = now();
  await atRate(options.count, options.rate, publish);
  await waitFor(() => log.delivered >= options.expected, 10_000);
  const elapsed = now() - started;
  const cpu = (await totalCpu(servers)) - cpuBefore;
  return deliveryFigures(log, options.expected, cpu, elapsed);
}

/**
 * Has `publisher` publish `count` messages at `rate`/s, the `i`-th to
 * `channel(i)`, and measures their deliveries as
 * {@linkcode measureDeliveries} does; publishes refused are counted.
 */
async function publishMeasured(
  servers: readonly Measured[],
  log: DeliveryLog,
  publisher: BenchClient,
  options: {
    count: number;
    rate: number;
    expected: number;
    payloadBytes: number;
    channel: (index: number) => string;
  },
): Promise<Figures> {
  let failures = 0;
  const figures = await measureDeliveries(
    servers,
    log,
    options,
    (i) =>
      void publisher.request("publish", {
        channel: options.channel(i),
        event: "tick",
        payload: timedPayload(i, options.payloadBytes),
      }).catch(() => failures++),
  );
  return { ...figures, publishFailures: failures };
}

/**
 * 1. Fan-out: many subscribers on one channel, one publisher at a steady
 * rate. With several nodes, subscribers are spread over them, the publisher
 * is on the first, and CPU is the sum over every node; `extra` (Redis) is
 * reported on its own.
 */
export async function fanOut(
  servers: readonly ServerUnderTest[],
  sizes: ScenarioSizes,
  extra?: Measured,
): Promise<{ figures: Figures; latencies: number[] }> {
  const credentials = await token(["fanout"], ["subscribe", "publish"]);
  const log = new DeliveryLog();
  const at = (i: number) => servers[i % servers.length] ?? servers[0];
  const subscribers = await pool(sizes.subscribers, 50, async (i) => {
    const server = at(i);
    if (server === undefined) throw new Error("fanOut needs a server");
    const client = await connect(server, credentials, "fanout");
    client.onBroadcast = log.record(client);
    return client;
  });
  const first = servers[0];
  if (first === undefined) throw new Error("fanOut needs a server");
  const publisher = await connect(first, credentials, null);
  await settle(500);
  const count = sizes.rate * sizes.duration;
  const extraBefore = await extra?.cpuSeconds();
  const figures = await publishMeasured(servers, log, publisher, {
    count,
    rate: sizes.rate,
    expected: count * sizes.subscribers,
    payloadBytes: sizes.payloadBytes,
    channel: () => "fanout",
  });
  if (extra !== undefined && extraBefore !== undefined) {
    figures.redisCpuPerDeliveryUs = ((await extra.cpuSeconds()) - extraBefore) *
      1e6 /
      Math.max(1, log.delivered);
  }
  const latencies = [...log.latencies];
  await closeAll([...subscribers, publisher]);
  return { figures, latencies };
}

/**
 * 9. Fan-out to clients of the Real-time Communication Service protocol
 * (`/ws`): as {@linkcode fanOut}, the publisher native, every subscriber an
 * RTC client of the topic. Compared with the native fan-out on `native`, a
 * server of its own: what the dialect costs per delivery.
 */
export async function rtcFanOut(
  server: ServerUnderTest,
  native: ServerUnderTest,
  sizes: ScenarioSizes,
): Promise<Figures> {
  const { figures: nativeFigures } = await fanOut([native], sizes);
  const credentials = token(["fanout"], ["subscribe", "publish"]);
  const url = new URL("/ws", server.websocketUrl).href;
  const log = new DeliveryLog();
  const subscribers = await pool(sizes.subscribers, 50, async () => {
    const client = await RtcBenchClient.open(url, credentials);
    await client.subscribe(["fanout"]);
    client.onBroadcast = log.recordUnsequenced();
    return client;
  });
  const publisher = await connect(server, credentials, null);
  await settle(500);
  const count = sizes.rate * sizes.duration;
  const figures = await publishMeasured([server], log, publisher, {
    count,
    rate: sizes.rate,
    expected: count * sizes.subscribers,
    payloadBytes: sizes.payloadBytes,
    channel: () => "fanout",
  });
  await closeAll([publisher]);
  await pool(
    subscribers.length,
    200,
    (i) => subscribers[i]?.close() ?? Promise.resolve(),
  );
  const cpuPerNative = nativeFigures.cpuPerDeliveryUs ?? Number.NaN;
  return {
    cpuPerDeliveryUs: figures.cpuPerDeliveryUs ?? Number.NaN,
    cpuPerNativeDeliveryUs: cpuPerNative,
    rtcToNativeRatio: (figures.cpuPerDeliveryUs ?? Number.NaN) / cpuPerNative,
    latencyP99Ms: figures.latencyP99Ms ?? Number.NaN,
    nativeLatencyP99Ms: nativeFigures.latencyP99Ms ?? Number.NaN,
    lost: (figures.lost ?? 0) + (nativeFigures.lost ?? 0),
    publishFailures: figures.publishFailures ?? 0,
  };
}

/**
 * 3 then 2. Idle: memory per authenticated, subscribed, idle connection; then
 * many channels: publishes spread over those connections' channels.
 */
export async function idleThenManyChannels(
  server: ServerUnderTest,
  sizes: ScenarioSizes,
): Promise<{ idle: Figures; manyChannels: Figures }> {
  const channels = Array.from(
    { length: sizes.connections },
    (_, i) => `ch-${i}`,
  );
  const credentials = await Promise.all(
    channels.map((channel) => token([channel], ["subscribe"])),
  );
  await settle(1000);
  const rssBefore = await server.rssBytes();
  const log = new DeliveryLog();
  const clients = await pool(sizes.connections, 100, async (i) => {
    const client = await connect(
      server,
      credentials[i] ?? "",
      channels[i] ?? "",
    );
    client.onBroadcast = log.record(client);
    return client;
  });
  await settle(2000);
  const rssAfter = await server.rssBytes();
  const idle = {
    rssPerIdleConnectionKiB: (rssAfter - rssBefore) / sizes.connections / 1024,
  };

  const publishers: BenchClient[] = [];
  for (let i = 0; i < channels.length; i += CHANNELS_PER_PUBLISHER) {
    const slice = channels.slice(i, i + CHANNELS_PER_PUBLISHER);
    publishers.push(
      await connect(server, await token(slice, ["publish"]), null),
    );
  }
  const count = sizes.channelRate * sizes.channelDuration;
  let failures = 0;
  const manyChannels = await measureDeliveries([server], log, {
    count,
    rate: sizes.channelRate,
    expected: count,
  }, (i) => {
    // Round-robin over the channels: every connection gets its share in order.
    const target = i % channels.length;
    const publisher = publishers[Math.floor(target / CHANNELS_PER_PUBLISHER)];
    publisher?.request("publish", {
      channel: channels[target],
      event: "tick",
      payload: timedPayload(i, sizes.payloadBytes),
    }).catch(() => failures++);
  });
  await closeAll([...clients, ...publishers]);
  return { idle, manyChannels: { ...manyChannels, publishFailures: failures } };
}

/** 4. Connection setup: connect, authenticate and subscribe, many at once. */
export async function connectionSetup(
  server: ServerUnderTest,
  sizes: ScenarioSizes,
): Promise<Figures> {
  const credentials = await Promise.all(
    Array.from(
      { length: sizes.setups },
      (_, i) => token([`setup-${i}`], ["subscribe"]),
    ),
  );
  const cpuBefore = await server.cpuSeconds();
  const started = now();
  const clients = await pool(
    sizes.setups,
    sizes.setupParallel,
    (i) => connect(server, credentials[i] ?? "", `setup-${i}`),
  );
  const elapsed = now() - started;
  const cpu = (await server.cpuSeconds()) - cpuBefore;
  await closeAll(clients);
  return {
    setupsPerSecond: sizes.setups / (elapsed / 1000),
    cpuPerSetupUs: (cpu * 1e6) / sizes.setups,
  };
}

/** 5. REST publish throughput with no subscribers. */
export async function restThroughput(
  server: ServerUnderTest,
  sizes: ScenarioSizes,
): Promise<Figures> {
  const body = JSON.stringify({
    channel: "rest",
    event: "tick",
    payload: timedPayload(0, sizes.payloadBytes),
  });
  const publish = async () => {
    const response = await fetch(`${server.base}/publish`, {
      method: "POST",
      headers: { authorization: `Bearer ${BENCH_API_KEY}` },
      body,
    });
    await response.body?.cancel();
    return response.ok;
  };
  await publish();
  const cpuBefore = await server.cpuSeconds();
  const started = now();
  const until = started + sizes.duration * 1000;
  let published = 0;
  let failures = 0;
  await Promise.all(
    Array.from({ length: sizes.restConcurrency }, async () => {
      while (now() < until) {
        if (await publish()) published++;
        else failures++;
      }
    }),
  );
  const elapsed = now() - started;
  const cpu = (await server.cpuSeconds()) - cpuBefore;
  return {
    restPublishesPerSecond: published / (elapsed / 1000),
    cpuPerRestPublishUs: (cpu * 1e6) / Math.max(1, published),
    publishFailures: failures,
  };
}

/**
 * 6. Reconnect storm: `stormClients` subscribers of one channel receive
 * `stormBacklog` messages live, all disconnect, as many more are published,
 * and all reconnect at once with `since` = the last id each saw, recovering
 * them from history. CPU per recovered message (set-ups included) against
 * CPU per live delivery, both measured here. The server keeps history for
 * twice the backlog: `since` names a message before it.
 */
export async function reconnectStorm(
  server: ServerUnderTest,
  sizes: ScenarioSizes,
): Promise<Figures> {
  const credentials = token(["storm"], ["subscribe", "publish"]);
  const lastIds: string[] = [];
  const live = new DeliveryLog();
  const subscribers = await pool(sizes.stormClients, 50, async (i) => {
    const client = await connect(server, credentials, "storm");
    const record = live.record(client);
    client.onBroadcast = (params, receivedAt) => {
      lastIds[i] = params.id;
      record(params, receivedAt);
    };
    return client;
  });
  const publisher = await connect(server, credentials, null);
  await settle(500);
  const publish = (i: number) =>
    publisher.request("publish", {
      channel: "storm",
      event: "tick",
      payload: timedPayload(i, sizes.payloadBytes),
    });
  let failures = 0;
  const liveFigures = await measureDeliveries([server], live, {
    count: sizes.stormBacklog,
    rate: Math.min(100, sizes.stormBacklog),
    expected: sizes.stormBacklog * sizes.stormClients,
  }, (i) => void publish(i).catch(() => failures++));
  await closeAll(subscribers);
  for (let i = 0; i < sizes.stormBacklog; i++) {
    await publish(sizes.stormBacklog + i).catch(() => failures++);
  }
  await settle(500);

  const recovered = new DeliveryLog();
  let refused = 0;
  const cpuBefore = await server.cpuSeconds();
  const started = now();
  const reconnected = await pool(
    sizes.stormClients,
    sizes.stormClients,
    async (i) => {
      const client = await BenchClient.open(server.websocketUrl);
      client.onBroadcast = recovered.record(client);
      await client.request("auth", { token: credentials });
      const result = await client.request("subscribe", {
        channel: "storm",
        since: lastIds[i],
      }) as { recovered?: boolean };
      if (result.recovered !== true) refused++;
      return client;
    },
  );
  const expected = sizes.stormBacklog * sizes.stormClients;
  await waitFor(() => recovered.delivered >= expected, 30_000);
  const elapsed = now() - started;
  const cpu = (await server.cpuSeconds()) - cpuBefore;
  await closeAll([...reconnected, publisher]);
  const cpuPerRecoveredUs = (cpu * 1e6) / Math.max(1, recovered.delivered);
  return {
    cpuPerLiveDeliveryUs: liveFigures.cpuPerDeliveryUs ?? Number.NaN,
    cpuPerRecoveredMessageUs: cpuPerRecoveredUs,
    recoveredToLiveRatio: cpuPerRecoveredUs /
      (liveFigures.cpuPerDeliveryUs ?? Number.NaN),
    stormSeconds: elapsed / 1000,
    notRecovered: refused,
    lost: expected - recovered.delivered,
    seqGaps: recovered.gaps,
    publishFailures: failures,
  };
}

/** Observers of the crowded channel, with `joinLeave` and `occupancy`. */
const PRESENCE_OBSERVERS = 10;

/** `presence` requests timed on the crowded channel. */
const PRESENCE_QUERIES = 20;

/**
 * 7. Presence: `presenceMembers` users in one channel, ten of them
 * observing joins, leaves and occupancy. `presence` on it is timed from a
 * client. Then churn: `presenceChurn` new users each connect, authenticate,
 * subscribe and close, `setupParallel` at once, and the server's CPU per
 * cycle (a join and a leave, told to the observers) is compared with the
 * same churn on `without`, a server with `PRESENCE=false`. Both run with
 * `PRESENCE_LEAVE_DELAY_MS=0`, so every leave is paid for inside the window.
 */
export async function presenceCrowd(
  server: ServerUnderTest,
  without: ServerUnderTest,
  sizes: ScenarioSizes,
): Promise<Figures> {
  const channel = "crowd";
  const member = (i: number) => token([channel], ["subscribe"], `member-${i}`);
  const fill = (target: ServerUnderTest) =>
    pool(sizes.presenceMembers, sizes.setupParallel, async (i) => {
      const client = await BenchClient.open(target.websocketUrl);
      await client.request("auth", { token: member(i) });
      await client.request("subscribe", {
        channel,
        ...(i < PRESENCE_OBSERVERS ? { joinLeave: true, occupancy: true } : {}),
      });
      return client;
    });
  const crowd = await fill(server);
  const observer = crowd[0];
  const latencies: number[] = [];
  let members = 0;
  for (let i = 0; i < PRESENCE_QUERIES && observer !== undefined; i++) {
    const started = now();
    const answer = await observer.request("presence", { channel }) as {
      connections: number;
    };
    latencies.push(now() - started);
    members = answer.connections;
  }
  latencies.sort((a, b) => a - b);
  const withPresence = await churnCpuPerCycleUs(server, channel, sizes);
  await closeAll(crowd);
  const plainCrowd = await fill(without);
  const withoutPresence = await churnCpuPerCycleUs(without, channel, sizes);
  await closeAll(plainCrowd);
  return {
    members,
    presenceP50Ms: latencies[Math.floor(latencies.length / 2)] ?? Number.NaN,
    presenceMaxMs: latencies.at(-1) ?? Number.NaN,
    cpuPerJoinLeaveUs: withPresence,
    cpuPerCycleWithoutPresenceUs: withoutPresence,
    churnCpuRatio: withPresence / withoutPresence,
  };
}

/** Server CPU per connect, auth, subscribe and close of a new user in `channel`. */
async function churnCpuPerCycleUs(
  server: ServerUnderTest,
  channel: string,
  sizes: ScenarioSizes,
): Promise<number> {
  const credentials = Array.from(
    { length: sizes.presenceChurn },
    (_, i) => token([channel], ["subscribe"], `churn-${i}`),
  );
  await settle(500);
  const cpuBefore = await server.cpuSeconds();
  await pool(sizes.presenceChurn, sizes.setupParallel, async (i) => {
    const client = await connect(server, credentials[i] ?? "", channel);
    await client.close();
    return client;
  });
  // The last leaves and occupancy updates are sent within the batching interval.
  await settle(300);
  const cpu = (await server.cpuSeconds()) - cpuBefore;
  return (cpu * 1e6) / sizes.presenceChurn;
}

/** Subscriptions per connection in the patterns scenario (under `MAX_SUBSCRIPTIONS`). */
const SUBSCRIPTIONS_PER_CONNECTION = 100;

/**
 * 8. Pattern subscriptions: `patterns` subscriptions of `pbench:<k>:*`,
 * a hundred per connection, while `channelRate` messages a second go
 * round-robin to `pbench:<k>:x` for `duration` seconds, each reaching
 * exactly one subscription. The same on `plain`, with a plain subscription
 * to each channel instead. CPU per delivery, and its ratio to the plain
 * one: what an index of patterns costs when all but one never match.
 */
export async function patternSubscriptions(
  server: ServerUnderTest,
  plain: ServerUnderTest,
  sizes: ScenarioSizes,
): Promise<Figures> {
  const withPatterns = await deliveriesThrough(server, sizes, true);
  const withChannels = await deliveriesThrough(plain, sizes, false);
  return {
    subscriptions: sizes.patterns,
    cpuPerDeliveryUs: withPatterns.cpuPerDeliveryUs ?? Number.NaN,
    cpuPerPlainDeliveryUs: withChannels.cpuPerDeliveryUs ?? Number.NaN,
    patternToPlainRatio: (withPatterns.cpuPerDeliveryUs ?? Number.NaN) /
      (withChannels.cpuPerDeliveryUs ?? Number.NaN),
    latencyP99Ms: withPatterns.latencyP99Ms ?? Number.NaN,
    lost: (withPatterns.lost ?? 0) + (withChannels.lost ?? 0),
    seqGaps: (withPatterns.seqGaps ?? 0) + (withChannels.seqGaps ?? 0),
  };
}

async function deliveriesThrough(
  server: ServerUnderTest,
  sizes: ScenarioSizes,
  patterns: boolean,
): Promise<Figures> {
  const credentials = token(["pbench:>"], ["subscribe", "publish"]);
  const connections = Math.ceil(sizes.patterns / SUBSCRIPTIONS_PER_CONNECTION);
  const log = new DeliveryLog();
  const clients = await pool(connections, sizes.setupParallel, async (c) => {
    const client = await connect(server, credentials, null);
    client.onBroadcast = log.record(client);
    const first = c * SUBSCRIPTIONS_PER_CONNECTION;
    const last = Math.min(sizes.patterns, first + SUBSCRIPTIONS_PER_CONNECTION);
    for (let k = first; k < last; k++) {
      await client.request("subscribe", {
        channel: patterns ? `pbench:${k}:*` : `pbench:${k}:x`,
      });
    }
    return client;
  });
  const publisher = await connect(server, credentials, null);
  await settle(500);
  const count = sizes.channelRate * sizes.duration;
  const figures = await publishMeasured([server], log, publisher, {
    count,
    rate: sizes.channelRate,
    expected: count,
    payloadBytes: sizes.payloadBytes,
    channel: (i) => `pbench:${i % sizes.patterns}:x`,
  });
  await closeAll([...clients, publisher]);
  return figures;
}

/**
 * 10. A Nova stream (issue 17): `novaViewers` viewers of one stream; then
 * `novaChurn` viewers a second join and leave for `duration` seconds (how
 * many count updates each viewer gets a second, and the server's CPU per
 * join and leave); then stream events fan out to every viewer at the
 * fan-out scenario's deliveries per second. The same crowd, churn and
 * fan-out of native clients (connect with `?token=`, subscribe, close) on
 * `native`, a server of its own, are the baseline.
 */
export async function novaStream(
  server: ServerUnderTest,
  native: ServerUnderTest,
  sizes: ScenarioSizes,
): Promise<Figures> {
  const channel = "streams:bench";
  const viewer = (i: number) => token([channel], ["subscribe"], `viewer-${i}`);
  const url = new URL("/api/v1/streams/bench/ws", server.websocketUrl).href;
  const crowd = await pool(
    sizes.novaViewers,
    sizes.setupParallel,
    (i) => NovaBenchClient.open(url, viewer(i)),
  );
  const churn = await churnCpu(server, sizes, async (i) => {
    const client = await NovaBenchClient.open(
      url,
      viewer(sizes.novaViewers + i),
    );
    await settle(dwellMs(i));
    await client.close();
  }, () => crowd.forEach((client) => client.countUpdates = 0));
  const updatesPerSecond = Math.max(
    ...crowd.map((client) => client.countUpdates),
  ) / churn.seconds;
  const log = new DeliveryLog();
  for (const client of crowd) client.onEvent = log.recordUnsequenced();
  const novaFanOut = await fanOutTo(server, log, sizes, channel);
  await pool(crowd.length, 200, (i) => crowd[i]?.close() ?? Promise.resolve());

  const subscriber = (i: number) =>
    token([channel], ["subscribe"], `native-${i}`);
  const nativeLog = new DeliveryLog();
  const natives = await pool(
    sizes.novaViewers,
    sizes.setupParallel,
    async (i) => {
      const client = await connect(native, subscriber(i), channel);
      client.onBroadcast = nativeLog.record(client);
      return client;
    },
  );
  const nativeChurn = await churnCpu(native, sizes, async (i) => {
    const client = await BenchClient.open(
      `${native.websocketUrl}?token=${subscriber(sizes.novaViewers + i)}`,
    );
    await client.request("subscribe", { channel });
    await settle(dwellMs(i));
    await client.close();
  }, () => {});
  const nativeFanOut = await fanOutTo(native, nativeLog, sizes, channel);
  await closeAll(natives);
  return {
    viewers: sizes.novaViewers,
    countUpdatesPerViewerPerSecond: updatesPerSecond,
    cpuPerJoinLeaveUs: churn.cpuPerCycleUs,
    cpuPerNativeConnectSubscribeUs: nativeChurn.cpuPerCycleUs,
    joinLeaveToNativeRatio: churn.cpuPerCycleUs / nativeChurn.cpuPerCycleUs,
    cpuPerDeliveryUs: novaFanOut.cpuPerDeliveryUs ?? Number.NaN,
    cpuPerNativeDeliveryUs: nativeFanOut.cpuPerDeliveryUs ?? Number.NaN,
    fanOutToNativeRatio: (novaFanOut.cpuPerDeliveryUs ?? Number.NaN) /
      (nativeFanOut.cpuPerDeliveryUs ?? Number.NaN),
    latencyP99Ms: novaFanOut.latencyP99Ms ?? Number.NaN,
    lost: (novaFanOut.lost ?? 0) + (nativeFanOut.lost ?? 0),
  };
}

/**
 * How long the `i`-th churning viewer stays: 0 to 0.9 s, so joins and
 * leaves do not cancel out within a batching interval and the count moves
 * (what the at-most-10-updates-a-second bound is about).
 */
function dwellMs(i: number): number {
  return (i % 10) * 100;
}

/**
 * `novaChurn` cycles a second for `duration` seconds, each `cycle(i)` (a
 * join and a leave); the server's CPU per cycle over exactly that span.
 * `begin` runs as the span starts.
 */
async function churnCpu(
  server: ServerUnderTest,
  sizes: ScenarioSizes,
  cycle: (index: number) => Promise<void>,
  begin: () => void,
): Promise<{ cpuPerCycleUs: number; seconds: number }> {
  await settle(500);
  const count = sizes.novaChurn * sizes.duration;
  const cpuBefore = await server.cpuSeconds();
  begin();
  const started = now();
  const cycles: Promise<void>[] = [];
  await atRate(count, sizes.novaChurn, (i) => void cycles.push(cycle(i)));
  await Promise.all(cycles);
  // The last occupancy updates go out within the batching interval.
  await settle(300);
  const seconds = (now() - started) / 1000;
  const cpu = (await server.cpuSeconds()) - cpuBefore;
  return { cpuPerCycleUs: (cpu * 1e6) / count, seconds };
}

/**
 * Fans events out on `channel` of `server` to the clients `log` records, at
 * the fan-out scenario's deliveries per second whatever their number.
 */
async function fanOutTo(
  server: ServerUnderTest,
  log: DeliveryLog,
  sizes: ScenarioSizes,
  channel: string,
): Promise<Figures> {
  const publisher = await connect(
    server,
    token([channel], ["subscribe", "publish"], "publisher"),
    null,
  );
  await settle(500);
  const rate = Math.max(
    1,
    Math.round((sizes.rate * sizes.subscribers) / sizes.novaViewers),
  );
  const count = rate * sizes.duration;
  const figures = await publishMeasured([server], log, publisher, {
    count,
    rate,
    expected: count * sizes.novaViewers,
    payloadBytes: sizes.payloadBytes,
    channel: () => channel,
  });
  await publisher.close();
  return figures;
}

/**
 * 11. Refused upgrades (SPEC §12): on `capped` (`MAX_CONNECTIONS=1`, one
 * socket held), `setups` more upgrades, each refused with 503 before the
 * upgrade; on `open`, `setups` successful connects (upgrade with `?token=`,
 * then close). Server CPU per refusal against per connect: a refusal must
 * cost less, or a flood of them would be an attack of its own.
 */
export async function refusedUpgrades(
  capped: ServerUnderTest,
  open: ServerUnderTest,
  sizes: ScenarioSizes,
): Promise<Figures> {
  const credentials = token(["refused"], ["subscribe"]);
  const holder = await BenchClient.open(
    `${capped.websocketUrl}?token=${credentials}`,
  );
  const attempt = (server: ServerUnderTest) =>
    new Promise<boolean>((resolve) => {
      const socket = new WebSocket(
        `${server.websocketUrl}?token=${credentials}`,
      );
      socket.onopen = () => {
        socket.onclose = () => resolve(true);
        socket.close(1000);
      };
      socket.onerror = () => resolve(false);
    });
  const measure = async (server: ServerUnderTest) => {
    await settle(300);
    const cpuBefore = await server.cpuSeconds();
    const outcomes = await pool(
      sizes.setups,
      sizes.setupParallel,
      () => attempt(server),
    );
    await settle(300);
    const cpu = (await server.cpuSeconds()) - cpuBefore;
    return {
      cpuPerAttemptUs: (cpu * 1e6) / sizes.setups,
      accepted: outcomes.filter(Boolean).length,
    };
  };
  const refused = await measure(capped);
  const accepted = await measure(open);
  await holder.close();
  return {
    cpuPerRefusalUs: refused.cpuPerAttemptUs,
    cpuPerConnectUs: accepted.cpuPerAttemptUs,
    refusalToConnectRatio: refused.cpuPerAttemptUs / accepted.cpuPerAttemptUs,
    refusedLetIn: refused.accepted,
    connectsRefused: sizes.setups - accepted.accepted,
  };
}
