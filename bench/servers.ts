/**
 * The servers under test, as child processes: ours (`main.ts`) and the floor.
 * Measured from the outside through `/proc/<pid>`, so the load generator's
 * own work never counts.
 *
 * @module
 */

import { freePort } from "../tests/support/ports.ts";
import { RedisServer } from "../tests/support/redis.ts";

/** Which server a run measures. */
export type ServerKind = "broadcaster" | "floor";

/** The secret and API key of benchmark runs (the servers listen on loopback only). */
export const BENCH_SECRET = "bench-secret-0123456789abcdef0123456789";
export const BENCH_API_KEY = "bench-api-key";

const ROOT = new URL("../", import.meta.url);
const CLOCK_TICKS_PER_SECOND = 100;

/** A running server. */
export interface ServerUnderTest extends AsyncDisposable {
  readonly kind: ServerKind;
  readonly pid: number;
  /** `http://127.0.0.1:<port>/broadcaster` */
  readonly base: string;
  readonly websocketUrl: string;
  /** User + system CPU time the process has used, in seconds. */
  cpuSeconds(): Promise<number>;
  /** Resident memory, in bytes. */
  rssBytes(): Promise<number>;
}

/** How to kill each process still running, broadcaster, floor or Redis. */
const running = new Set<() => void>();

/** Kills every server still running: on exit, on Ctrl-C, on a deadline. */
export function killAll(): void {
  for (const kill of running) {
    try {
      kill();
    } catch {
      // Already gone.
    }
  }
  running.clear();
}

/** Fails clearly when `port` is taken, instead of letting a server die obscurely. */
export function assertPortFree(port: number): void {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new Error(`port ${port} is already in use`);
    }
    throw error;
  }
}

/** The command line of each server; `env` adds settings to ours. */
function command(
  kind: ServerKind,
  port: number,
  env: Record<string, string>,
): Deno.Command {
  const common = {
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  } as const;
  // BENCH_DENO_FLAGS passes extra runtime flags, e.g. --v8-flags=--prof for profiling.
  const extra = Deno.env.get("BENCH_DENO_FLAGS")?.split(" ").filter(Boolean) ??
    [];
  if (kind === "floor") {
    return new Deno.Command(Deno.execPath(), {
      ...common,
      args: [
        "run",
        "--allow-net",
        ...extra,
        "bench/floor_server.ts",
        String(port),
      ],
    });
  }
  return new Deno.Command(Deno.execPath(), {
    ...common,
    args: ["run", "--allow-net", "--allow-env", ...extra, "main.ts"],
    env: {
      JWT_SECRET: BENCH_SECRET,
      API_KEYS: BENCH_API_KEY,
      HOST: "127.0.0.1",
      PORT: String(port),
      // A publisher at benchmark rates is not an abuser; every other limit stays at its default.
      RATE_LIMIT: "1000000",
      LOG_LEVEL: "warning",
      ...env,
    },
  });
}

async function readStat(pid: number): Promise<string[]> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the command name, which is in parentheses and may hold spaces.
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** Starts a server on a free port and waits until `/health` answers. */
export async function startServerUnderTest(
  kind: ServerKind,
  env: Record<string, string> = {},
): Promise<ServerUnderTest> {
  const port = freePort();
  assertPortFree(port);
  const child = command(kind, port, env).spawn();
  const kill = () => child.kill("SIGKILL");
  running.add(kill);
  const base = `http://127.0.0.1:${port}/broadcaster`;
  const stderr = new Response(child.stderr).text();
  const exited = child.status.then((status) => status);
  const deadline = Date.now() + 15_000;
  while (true) {
    const done = await Promise.race([
      exited.then((status) => status),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 100)),
    ]);
    if (done !== null) {
      running.delete(kill);
      throw new Error(
        `the ${kind} server exited with ${done.code} before listening:\n${await stderr}`,
      );
    }
    try {
      const response = await fetch(`${base}/health`);
      await response.body?.cancel();
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      running.delete(kill);
      throw new Error(`the ${kind} server did not answer /health within 15 s`);
    }
  }
  return {
    kind,
    pid: child.pid,
    base,
    websocketUrl: `${base.replace(/^http/, "ws")}/websocket`,
    async cpuSeconds() {
      const fields = await readStat(child.pid);
      // utime and stime: fields 14 and 15 of stat, 12 and 13 after the name.
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
    },
    async rssBytes() {
      const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? "0") * 1024;
    },
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      await Promise.race([
        child.status,
        new Promise((resolve) => setTimeout(resolve, 5_000)),
      ]);
      try {
        child.kill("SIGKILL");
      } catch {
        // Exited as asked.
      }
      await child.status;
      await stderr;
      running.delete(kill);
    },
  };
}

/** A `redis-server` for the multi-node scenario: loopback, no persistence. */
export interface RedisUnderTest extends AsyncDisposable {
  readonly url: string;
  /** User + system CPU time Redis has used, in seconds. */
  cpuSeconds(): Promise<number>;
}

/** Starts `redis-server` on a free port; fails clearly when it is not installed. */
export async function startRedis(): Promise<RedisUnderTest> {
  const redis = new RedisServer();
  const kill = () => void redis.stop();
  running.add(kill);
  try {
    await redis.start();
  } catch (error) {
    running.delete(kill);
    await redis[Symbol.asyncDispose]();
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        "redis-server is not installed (apt-get install redis-server)",
      );
    }
    throw error;
  }
  const pid = redis.pid ?? 0;
  return {
    url: redis.url,
    async cpuSeconds() {
      const fields = await readStat(pid);
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
    },
    async [Symbol.asyncDispose]() {
      running.delete(kill);
      await redis[Symbol.asyncDispose]();
    },
  };
}
