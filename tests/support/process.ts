/**
 * The server as a child process, as users run it: `main.ts` configured by
 * environment, its stdout read line by line.
 *
 * @module
 */

import { TEST_API_KEY, TEST_SECRET } from "./server.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A `deno run main.ts` command with exactly `env` (plus NO_COLOR). */
export function mainCommand(
  env: Record<string, string>,
  args: string[] = [],
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Reads a child's stdout line by line, keeping everything it printed. */
export class LineReader {
  readonly lines: string[] = [];
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** Reads until a line matches, for at most `timeoutMs`; returns it. */
  async until(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`no line matching ${pattern} within ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.#until(pattern), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #until(pattern: RegExp): Promise<string> {
    while (true) {
      const found = this.lines.find((line) => pattern.test(line));
      if (found !== undefined) return found;
      const { done, value } = await this.#reader.read();
      if (done) throw new Error(`stream ended before ${pattern}`);
      this.#buffer += value;
      const parts = this.#buffer.split("\n");
      this.#buffer = parts.pop() ?? "";
      this.lines.push(...parts);
    }
  }

  /** Reads to the end. */
  async rest(): Promise<string[]> {
    while (true) {
      const { done, value } = await this.#reader.read();
      if (done) break;
      this.#buffer += value;
    }
    this.lines.push(...this.#buffer.split("\n").filter((line) => line !== ""));
    this.#buffer = "";
    return this.lines;
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
