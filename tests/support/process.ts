/**
 * The server as a child process, as users run it: `main.ts` configured by
 * environment, its stdout read line by line.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };
import { TEST_API_KEY, TEST_SECRET } from "./server.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
/** The permissions and flags of `deno task start`, read from deno.json: tests run what users run. */
const START_FLAGS = denoJson.tasks.start.command.split(" ").filter((word) =>
  word.startsWith("--")
);

/** `main.ts` with the permissions and flags of `deno task start`, exactly `env` (plus NO_COLOR). */
export function mainCommand(
  env: Record<string, string>,
  args: string[] = [],
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...START_FLAGS, MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/**
 * Reads a child's stdout line by line, keeping everything it printed. It
 * reads all the time, not only when asked: a pipe nobody drains fills up,
 * and a server that logs into a full pipe blocks.
 */
export class LineReader {
  readonly lines: string[] = [];
  readonly #done: Promise<void>;
  #wake: () => void = () => {};
  #ended = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#done = this.#pump(stream);
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    let buffer = "";
    try {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
        const parts = buffer.split("\n");
        buffer = parts.pop() ?? "";
        this.lines.push(...parts);
        this.#wake();
      }
    } finally {
      if (buffer !== "") this.lines.push(buffer);
      this.#ended = true;
      this.#wake();
    }
  }

  /** Waits until a line matches, for at most `timeoutMs`; returns it. */
  async until(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const found = this.lines.find((line) => pattern.test(line));
      if (found !== undefined) return found;
      if (this.#ended) throw new Error(`stream ended before ${pattern}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no line matching ${pattern} within ${timeoutMs} ms`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Waits for the end of the stream; returns every line. */
  async rest(): Promise<string[]> {
    await this.#done;
    return this.lines.filter((line) => line !== "");
  }
}

/** A server child process on a free port, with JSON logs. */
export interface ServerProcess extends AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly stdout: LineReader;
  /** `http://127.0.0.1:<port>/broadcaster` */
  readonly base: string;
  readonly websocketUrl: string;
  /** The child's resident memory, in bytes, from /proc. */
  rss(): Promise<number>;
}

/** Starts `main.ts` with the test secret and key; `env` overrides. */
export async function spawnServer(
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const child = mainCommand({
    JWT_SECRET: TEST_SECRET,
    API_KEYS: TEST_API_KEY,
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_ENCODING: "json",
    ...env,
  }).spawn();
  const stdout = new LineReader(child.stdout);
  const listening = JSON.parse(await stdout.until(/listening on/));
  const base = String(listening.url).replace(/\/$/, "");
  return {
    child,
    stdout,
    base,
    websocketUrl: `${base.replace(/^http/, "ws")}/websocket`,
    async rss() {
      const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
      const kilobytes = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
      return Number(kilobytes) * 1024;
    },
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      await child.status;
      await stdout.rest();
      await child.stderr.cancel();
    },
  };
}
