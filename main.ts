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
import { parseConfig } from "./src/config.ts";
import { DEV_ENVIRONMENT, devBanner, devToken } from "./src/dev.ts";
import { startServer } from "./src/http/server.ts";
import { configureLogging, log } from "./src/log.ts";

const USAGE = `Broadcaster ${denoJson.version}: a real-time messaging server.

Usage: broadcaster [--dev] [--help] [--version]

Configuration comes from environment variables; JWT_SECRET and API_KEYS are
required. See README.md for every setting.

  --dev      development mode: built-in secret and API key, prints a token
  --help     this text
  --version  the version
`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      dev: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
      version: { type: "boolean", short: "v", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.version) {
    console.log(denoJson.version);
    return 0;
  }
  const environment = Deno.env.toObject();
  const parsed = parseConfig(
    values.dev ? { ...DEV_ENVIRONMENT, ...environment } : environment,
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
  const token = values.dev ? await devToken(config) : undefined;
  let server;
  try {
    server = await startServer(config, {
      consolePrefill: token === undefined ? {} : {
        token,
        ...(config.apiKeys[0] ? { apiKey: config.apiKeys[0] } : {}),
      },
    });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      console.error(
        `broadcaster: port ${config.port} on ${config.host} is already in use (set PORT)`,
      );
      return 1;
    }
    throw error;
  }
  if (token !== undefined) console.log(devBanner(config, server.url, token));

  const stop = () => void server.shutdown();
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  await server.finished;
  await server.shutdown();
  return 0;
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
