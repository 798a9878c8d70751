/**
 * Test fixture: a real `redis-server` on a free loopback port, no persistence,
 * in a temporary directory; stoppable and restartable on the same port, for
 * outage tests.
 *
 * @module
 */

import { Redis } from "ioredis";
import { freePort } from "./ports.ts";

/** True when `redis-server` can run here. Under CI it must: see {@linkcode redisTest}. */
export const HAS_REDIS = await new Deno.Command("redis-server", {
  args: ["--version"],
})
  .output().then((output) => output.success, () => false);

/**
 * Registers a test that needs Redis: skipped with a reason on a machine
 * without it, but failing under CI, which installs it (`.ci/run`).
 */
export function redisTest(name: string, fn: () => Promise<void>): void {
  const ci = Deno.env.get("CI") === "true";
  if (!HAS_REDIS && !ci) {
    Deno.test({
      name: `${name} (skipped: redis-server not installed)`,
      ignore: true,
      fn,
    });
    return;
  }
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

/** A Redis server for one test or bench run: loopback, a free port, no persistence. */
export class RedisServer implements AsyncDisposable {
  readonly port = freePort();
  readonly url = `redis://127.0.0.1:${this.port}`;
  readonly #directory = Deno.makeTempDirSync({ prefix: "broadcaster-redis-" });
  #process: Deno.ChildProcess | undefined;

  /** Starts a server and waits until it answers PING. */
  static async start(): Promise<RedisServer> {
    const server = new RedisServer();
    await server.start();
    return server;
  }

  /** (Re)starts the server on the same port. */
  async start(): Promise<void> {
    this.#process = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        this.#directory,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const deadline = Date.now() + 10_000;
    while (!(await this.#answersPing())) {
      if (Date.now() > deadline) {
        throw new Error("redis-server did not start within 10 s");
      }
      // Nothing announces that it listens: ask again shortly.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The process id while it runs (the bench reads its CPU time). */
  get pid(): number | undefined {
    return this.#process?.pid;
  }

  /** True once the server answers `PING` with `+PONG`. */
  async #answersPing(): Promise<boolean> {
    try {
      const connection = await Deno.connect({
        hostname: "127.0.0.1",
        port: this.port,
      });
      try {
        await connection.write(new TextEncoder().encode("PING\r\n"));
        const buffer = new Uint8Array(16);
        const read = await connection.read(buffer);
        return read !== null &&
          new TextDecoder().decode(buffer.subarray(0, read)).startsWith(
            "+PONG",
          );
      } finally {
        connection.close();
      }
    } catch {
      return false;
    }
  }

  /** Stops the server (its data is gone: no persistence). */
  async stop(): Promise<void> {
    const process = this.#process;
    if (process === undefined) return;
    this.#process = undefined;
    process.kill("SIGKILL");
    await process.status;
  }

  /** Runs one command on a fresh connection, e.g. `CLIENT KILL TYPE pubsub`. */
  async command(...args: string[]): Promise<unknown> {
    const client = new Redis(this.url);
    try {
      const [name = "", ...rest] = args;
      return await client.call(name, ...rest);
    } finally {
      client.disconnect();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    await Deno.remove(this.#directory, { recursive: true }).catch(() => {});
  }
}
