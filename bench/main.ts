/**
 * `deno task bench`: runs every scenario against Broadcaster and against the
 * floor server, one fresh process per run, and reports the figures side by
 * side and as ratios to the floor.
 *
 * @example
 * ```sh
 * deno task bench                          # everything, default sizes
 * deno task bench --only fanOut --subscribers 200
 * deno task bench --reference              # also write bench/results/reference.*
 * ```
 *
 * @module
 */

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import {
  chart,
  checkTargets,
  percentiles,
  type Report,
  type Results,
  table,
} from "./report.ts";
import {
  connectionSetup,
  DEFAULT_SIZES,
  fanOut,
  idleThenManyChannels,
  novaStream,
  patternSubscriptions,
  presenceCrowd,
  reconnectStorm,
  refusedUpgrades,
  restThroughput,
  rtcFanOut,
  type ScenarioSizes,
} from "./scenarios.ts";
import {
  killAll,
  type ServerKind,
  type ServerUnderTest,
  startRedis,
  startServerUnderTest,
} from "./servers.ts";

const SCENARIOS = [
  "fanOut",
  "fanOutRedis",
  "manyChannels",
  "setup",
  "rest",
  "reconnectStorm",
  "presence",
  "patterns",
  "rtcFanOut",
  "nova",
  "refusals",
] as const;
type Scenario = typeof SCENARIOS[number];

const USAGE = `deno task bench [flags]

  --only <list>            scenarios to run: ${
  SCENARIOS.join(",")
} (idle runs with manyChannels)
  --servers <list>         broadcaster,floor
  --subscribers <n>        fan-out subscribers (${DEFAULT_SIZES.subscribers})
  --rate <n>               fan-out publishes per second (${DEFAULT_SIZES.rate})
  --duration <s>           seconds of publishing (${DEFAULT_SIZES.duration})
  --payload-bytes <n>      payload size (${DEFAULT_SIZES.payloadBytes})
  --connections <n>        many-channels and idle connections (${DEFAULT_SIZES.connections})
  --channel-rate <n>       many-channels publishes per second (${DEFAULT_SIZES.channelRate})
  --channel-duration <s>   seconds of many-channels publishing (${DEFAULT_SIZES.channelDuration})
  --setups <n>             connection setups in all (${DEFAULT_SIZES.setups})
  --setup-parallel <n>     connection setups at once (${DEFAULT_SIZES.setupParallel})
  --rest-concurrency <n>   concurrent REST publishers (${DEFAULT_SIZES.restConcurrency})
  --storm-clients <n>      reconnect storm: clients reconnecting at once (${DEFAULT_SIZES.stormClients})
  --storm-backlog <n>      reconnect storm: messages each recovers (${DEFAULT_SIZES.stormBacklog})
  --patterns <n>           pattern subscriptions, and channels (${DEFAULT_SIZES.patterns})
  --presence-members <n>   presence: members of the crowded channel (${DEFAULT_SIZES.presenceMembers})
  --presence-churn <n>     presence: users joining and leaving it (${DEFAULT_SIZES.presenceChurn})
  --nova-viewers <n>       nova: viewers of the one stream (${DEFAULT_SIZES.novaViewers})
  --nova-churn <n>         nova: viewers joining and leaving per second (${DEFAULT_SIZES.novaChurn})
  --timeout <s>            give up (and kill every server) after this long (900)
  --out <dir>              where to write reports (bench/results)
  --reference              also write bench/results/reference.{json,svg}
`;

function positive(
  name: string,
  value: string | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) {
    throw new Error(`--${name} must be a positive number`);
  }
  return number;
}

async function machine(): Promise<Record<string, string | number>> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const cpu = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1]?.trim() ??
    Deno.build.arch;
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    memoryGiB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
  };
}

async function withServer<T>(
  kind: ServerKind,
  run: (server: ServerUnderTest) => Promise<T>,
): Promise<T> {
  await using server = await startServerUnderTest(kind);
  return await run(server);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      only: { type: "string" },
      servers: { type: "string", default: "broadcaster,floor" },
      subscribers: { type: "string" },
      rate: { type: "string" },
      duration: { type: "string" },
      "payload-bytes": { type: "string" },
      connections: { type: "string" },
      "channel-rate": { type: "string" },
      "channel-duration": { type: "string" },
      setups: { type: "string" },
      "setup-parallel": { type: "string" },
      "rest-concurrency": { type: "string" },
      "storm-clients": { type: "string" },
      "storm-backlog": { type: "string" },
      patterns: { type: "string" },
      "presence-members": { type: "string" },
      "presence-churn": { type: "string" },
      "nova-viewers": { type: "string" },
      "nova-churn": { type: "string" },
      timeout: { type: "string", default: "900" },
      out: { type: "string" },
      reference: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const sizes: ScenarioSizes = {
    subscribers: positive(
      "subscribers",
      values.subscribers,
      DEFAULT_SIZES.subscribers,
    ),
    rate: positive("rate", values.rate, DEFAULT_SIZES.rate),
    duration: positive("duration", values.duration, DEFAULT_SIZES.duration),
    payloadBytes: positive(
      "payload-bytes",
      values["payload-bytes"],
      DEFAULT_SIZES.payloadBytes,
    ),
    connections: positive(
      "connections",
      values.connections,
      DEFAULT_SIZES.connections,
    ),
    channelRate: positive(
      "channel-rate",
      values["channel-rate"],
      DEFAULT_SIZES.channelRate,
    ),
    channelDuration: positive(
      "channel-duration",
      values["channel-duration"],
      DEFAULT_SIZES.channelDuration,
    ),
    setups: positive("setups", values.setups, DEFAULT_SIZES.setups),
    setupParallel: positive(
      "setup-parallel",
      values["setup-parallel"],
      DEFAULT_SIZES.setupParallel,
    ),
    restConcurrency: positive(
      "rest-concurrency",
      values["rest-concurrency"],
      DEFAULT_SIZES.restConcurrency,
    ),
    stormClients: positive(
      "storm-clients",
      values["storm-clients"],
      DEFAULT_SIZES.stormClients,
    ),
    stormBacklog: positive(
      "storm-backlog",
      values["storm-backlog"],
      DEFAULT_SIZES.stormBacklog,
    ),
    patterns: positive("patterns", values.patterns, DEFAULT_SIZES.patterns),
    presenceMembers: positive(
      "presence-members",
      values["presence-members"],
      DEFAULT_SIZES.presenceMembers,
    ),
    presenceChurn: positive(
      "presence-churn",
      values["presence-churn"],
      DEFAULT_SIZES.presenceChurn,
    ),
    novaViewers: positive(
      "nova-viewers",
      values["nova-viewers"],
      DEFAULT_SIZES.novaViewers,
    ),
    novaChurn: positive(
      "nova-churn",
      values["nova-churn"],
      DEFAULT_SIZES.novaChurn,
    ),
  };
  const only = (values.only?.split(",") ?? [...SCENARIOS]) as Scenario[];
  const unknown = only.filter((name) => !SCENARIOS.includes(name));
  if (unknown.length > 0) {
    throw new Error(`unknown scenario: ${unknown.join(", ")}`);
  }
  const servers = values.servers.split(",") as ServerKind[];
  if (servers.some((kind) => kind !== "broadcaster" && kind !== "floor")) {
    throw new Error("--servers takes broadcaster, floor or both");
  }

  // The run is bounded: past the deadline every server is killed and the run fails.
  const timeoutSeconds = positive("timeout", values.timeout, 900);
  const deadline = setTimeout(() => {
    console.error(`bench: gave up after ${timeoutSeconds} s`);
    killAll();
    Deno.exit(2);
  }, timeoutSeconds * 1000);
  Deno.addSignalListener("SIGINT", () => {
    killAll();
    Deno.exit(130);
  });

  const results: Results = {};
  const latencyPercentiles: Report["latencyPercentiles"] = {};
  const record = (
    scenario: string,
    kind: ServerKind,
    figures: Record<string, number>,
  ) => {
    (results[scenario] ??= {})[kind] = figures;
  };
  for (const scenario of only) {
    for (const kind of servers) {
      console.error(`bench: ${scenario} on ${kind} …`);
      switch (scenario) {
        case "fanOut": {
          const { figures, latencies } = await withServer(
            kind,
            (s) => fanOut([s], sizes),
          );
          record("fanOut", kind, figures);
          latencyPercentiles[kind] = percentiles(latencies);
          break;
        }
        case "fanOutRedis": {
          // Two nodes on one Redis: ours only, the floor has no engine to share.
          if (kind !== "broadcaster") break;
          await using redis = await startRedis();
          const env = { ENGINE: "redis", REDIS_URL: redis.url };
          await using one = await startServerUnderTest(kind, env);
          await using two = await startServerUnderTest(kind, env);
          const { figures } = await fanOut([one, two], sizes, redis);
          record("fanOutRedis", kind, figures);
          break;
        }
        case "manyChannels": {
          const { idle, manyChannels } = await withServer(
            kind,
            (s) => idleThenManyChannels(s, sizes),
          );
          record("idle", kind, idle);
          record("manyChannels", kind, manyChannels);
          break;
        }
        case "setup":
          record(
            "setup",
            kind,
            await withServer(kind, (s) => connectionSetup(s, sizes)),
          );
          break;
        case "rest":
          record(
            "rest",
            kind,
            await withServer(kind, (s) => restThroughput(s, sizes)),
          );
          break;
        case "presence": {
          // Presence is ours alone; its baseline is ours too, with PRESENCE=false.
          if (kind !== "broadcaster") break;
          const now = { PRESENCE_LEAVE_DELAY_MS: "0" };
          await using server = await startServerUnderTest(kind, now);
          await using without = await startServerUnderTest(kind, {
            ...now,
            PRESENCE: "false",
          });
          record("presence", kind, await presenceCrowd(server, without, sizes));
          break;
        }
        case "patterns": {
          // Patterns are ours alone; the baseline is ours too, with plain subscriptions.
          if (kind !== "broadcaster") break;
          await using server = await startServerUnderTest(kind);
          await using plain = await startServerUnderTest(kind);
          record(
            "patterns",
            kind,
            await patternSubscriptions(server, plain, sizes),
          );
          break;
        }
        case "rtcFanOut": {
          // The dialect is ours alone: its baseline is our native fan-out.
          if (kind !== "broadcaster") break;
          await using server = await startServerUnderTest(kind);
          await using native = await startServerUnderTest(kind);
          record("rtcFanOut", kind, await rtcFanOut(server, native, sizes));
          break;
        }
        case "nova": {
          // The dialect is ours alone: its baseline is our native protocol.
          if (kind !== "broadcaster") break;
          await using server = await startServerUnderTest(kind);
          await using native = await startServerUnderTest(kind);
          record("nova", kind, await novaStream(server, native, sizes));
          break;
        }
        case "refusals": {
          // The caps are ours alone: the baseline is our own successful connect.
          if (kind !== "broadcaster") break;
          await using capped = await startServerUnderTest(kind, {
            MAX_CONNECTIONS: "1",
          });
          await using open = await startServerUnderTest(kind);
          record("refusals", kind, await refusedUpgrades(capped, open, sizes));
          break;
        }
        case "reconnectStorm": {
          // Recovery is ours alone: the floor keeps no history.
          if (kind !== "broadcaster") break;
          await using server = await startServerUnderTest(kind, {
            HISTORY_SIZE: String(sizes.stormBacklog * 2),
          });
          record("reconnectStorm", kind, await reconnectStorm(server, sizes));
          break;
        }
      }
    }
  }
  clearTimeout(deadline);

  const report: Report = {
    date: new Date().toISOString(),
    machine: await machine(),
    sizes,
    results,
    latencyPercentiles,
    targets: checkTargets(results),
  };
  console.log(table(report));
  const directory = values.out === undefined
    ? new URL("./results/", import.meta.url)
    : pathToFileURL(`${resolve(values.out)}/`);
  await Deno.mkdir(directory, { recursive: true });
  const stamp = report.date.replace(/[:.]/g, "-");
  const json = JSON.stringify(report, null, 2);
  const svg = chart(report);
  const written = [
    `${stamp}.json`,
    `${stamp}.svg`,
    "latest.json",
    "latest.svg",
  ];
  if (values.reference) written.push("reference.json", "reference.svg");
  for (const name of written) {
    await Deno.writeTextFile(
      new URL(name, directory),
      name.endsWith(".json") ? json : svg,
    );
  }
  console.log(
    `\nwrote ${
      written.map((name) => new URL(name, directory).pathname).join(", ")
    }`,
  );
  return report.targets.every((target) => target.pass) ? 0 : 1;
}

try {
  Deno.exit(await main());
} catch (error) {
  console.error(`bench: ${error instanceof Error ? error.message : error}`);
  killAll();
  Deno.exit(1);
}
