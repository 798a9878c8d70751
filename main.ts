/**
 * Broadcaster's entry point: reads the configuration, starts the server,
 * handles signals.
 *
 * `deno task start` runs it for production; `deno task dev` adds `--dev`,
 * which fills in a development secret and API key and prints a token.
 *
 * @module
 */

import { parseArgs } from "node:util";
import denoJson from "./deno.json" with { type: "json" };
import { type Config, parseConfig } from "./src/config.ts";
import { DEV_ENVIRONMENT, devBanner, devToken } from "./src/dev.ts";
import { startServer } from "./src/http/server.ts";
import { configureLogging, flushLogs, log } from "./src/log.ts";

const USAGE = `Broadcaster ${denoJson.version}: a real-time messaging server.

Usage: broadcaster [--dev] [--healthcheck] [--help] [--version]

Configuration comes from environment variables; JWT_SECRET and API_KEYS are
required. See README.md for every setting.

  --dev          development mode: built-in secret and API key, prints a token
  --healthcheck  ask the local server's /health (PORT, BASE_PATH); exit 0 if healthy
                 (for container health checks: the image has no shell or curl)
  --help         this text
  --version      the version
`;

/** Why the server could not start, in one line for the operator. */
function startFailure(error: unknown, config: Config): string {
  const where = `${config.host}:${config.port}`;
  if (error instanceof Deno.errors.AddrInUse) {
    return `port ${config.port} on ${config.host} is already in use (set PORT)`;
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return `cannot listen on ${where}: no such address on this machine (set HOST, e.g. 0.0.0.0 or 127.0.0.1)`;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/lookup/i.test(message)) {
    return `cannot listen on ${where}: HOST does not resolve (set HOST to an address or a resolvable name)`;
  }
  return `cannot start: ${message}`;
}

/** The flags, or `null` (after printing why and the usage) for unknown ones. */
function flags(args: readonly string[]) {
  try {
    return parseArgs({
      args: [...args],
      options: {
        dev: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
        version: { type: "boolean", short: "v", default: false },
        healthcheck: { type: "boolean", default: false },
      },
    }).values;
  } catch (error) {
    console.error(
      `broadcaster: ${error instanceof Error ? error.message : error}\n`,
    );
    console.error(USAGE);
    return null;
  }
}

async function main(): Promise<number> {
  const values = flags(Deno.args);
  if (values === null) return 2;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.version) {
    console.log(denoJson.version);
    return 0;
  }
  if (values.healthcheck) return await healthcheck();
  const environment = Deno.env.toObject();
  const parsed = parseConfig(
    values.dev ? { ...DEV_ENVIRONMENT, ...environment } : environment,
    {
      development: values.dev,
      readFile: (path) => Deno.readTextFileSync(path),
    },
  );
  if (!parsed.ok) {
    console.error("broadcaster: invalid configuration:");
    for (const problem of parsed.problems) console.error(`  - ${problem}`);
    return 1;
  }
  const config = parsed.config;
  await configureLogging({
    encoding: config.logEncoding,
    level: config.logLevel,
  });
  keepRunningOnStrayErrors();
  for (const warning of parsed.warnings) log("config").warning(warning);
  const token = values.dev ? devToken(config) : undefined;
  let server;
  try {
    server = await startServer(config, {
      consolePrefill: token === undefined ? {} : {
        token,
        ...(config.apiKeys[0] ? { apiKey: config.apiKeys[0] } : {}),
      },
    });
  } catch (error) {
    // One clear line and a failed exit, so a supervisor (systemd) restarts or alerts.
    console.error(`broadcaster: ${startFailure(error, config)}`);
    await flushLogs();
    return 1;
  }
  if (token !== undefined) console.log(devBanner(config, server.url, token));

  let stoppedBy: Deno.Signal | undefined;
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
  const listeners = signals.map((signal) => {
    const listener = () => {
      stoppedBy ??= signal;
      void server.shutdown();
    };
    try {
      Deno.addSignalListener(signal, listener);
    } catch {
      // Platforms without signals (Deno Deploy) stop the process themselves.
    }
    return [signal, listener] as const;
  });
  await server.finished;
  await server.shutdown();
  await flushLogs();
  if (values.dev && stoppedBy !== undefined) {
    // Under `deno task dev` the file watcher outlives this program's exit:
    // the signal, delivered again without our listener, ends it too.
    for (const [signal, listener] of listeners) {
      Deno.removeSignalListener(signal, listener);
    }
    Deno.kill(Deno.pid, stoppedBy);
  }
  return 0;
}

/** Asks the server on this host for `/health`: 0 when it answers 200 within 3 s. */
async function healthcheck(): Promise<number> {
  const host = Deno.env.get("HOST") ?? "";
  const local = host === "" || host === "0.0.0.0" || host === "::"
    ? "127.0.0.1"
    : host;
  const port = Deno.env.get("PORT") || "8000";
  const base = (Deno.env.get("BASE_PATH") ?? "/broadcaster").replace(
    /\/+$/,
    "",
  );
  const url = `http://${
    local.includes(":") ? `[${local}]` : local
  }:${port}${base}/health`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
    console.log(`${response.status} ${await response.text()}`);
    return response.ok ? 0 : 1;
  } catch (error) {
    console.error(
      `unhealthy: ${error instanceof Error ? error.message : error}`,
    );
    return 1;
  }
}

/**
 * The last line of defence: every known failure is handled where it happens,
 * but a bug that escapes must cost one request or connection, not the process
 * and every client on it.
 */
function keepRunningOnStrayErrors(): void {
  const logger = log("process");
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    logger.error("unhandled rejection: {error}", { error: event.reason });
  });
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    logger.error("uncaught exception: {error}", { error: event.error });
  });
}

if (import.meta.main) {
  Deno.exit(await main());
}
