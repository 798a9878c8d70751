/**
 * Logging with logtape: readable lines (`LOG_ENCODING=console`) or one JSON
 * object per line (`json`), on stdout.
 *
 * Callers log structured fields, never raw URLs or headers: tokens travel in
 * `?token=` and `Authorization`, and neither may reach a log.
 *
 * @module
 */

import {
  configure,
  dispose,
  getConsoleSink,
  getLogger,
  getTextFormatter,
  type Logger,
  type LogRecord,
} from "@logtape/logtape";
import type { LogLevel } from "./config.ts";

/** Options of {@linkcode configureLogging}. */
export interface LoggingOptions {
  readonly encoding: "console" | "json";
  readonly level: LogLevel;
}

/**
 * One JSON object per line: `timestamp` (RFC 3339), `level`, `message`, the
 * logger, then every field flat.
 */
export function jsonLine(record: LogRecord): string {
  const message = record.message
    .map((part) => typeof part === "string" ? part : JSON.stringify(part))
    .join("");
  return `${
    JSON.stringify({
      timestamp: new Date(record.timestamp).toISOString(),
      level: record.level,
      message,
      logger: record.category.join("."),
      ...record.properties,
    }, (_key, value) => value instanceof Error ? String(value) : value)
  }\n`;
}

/**
 * Routes every `broadcaster` logger to stdout in the chosen encoding. Safe to
 * call again (tests start several servers in one process).
 */
export async function configureLogging(options: LoggingOptions): Promise<void> {
  const formatter = options.encoding === "json" ? jsonLine : getTextFormatter({
    timestamp: "date-time-tz",
    value: (value) => typeof value === "string" ? value : Deno.inspect(value),
  });
  await configure({
    reset: true,
    sinks: {
      // Buffered and written asynchronously: a stalled log collector must not
      // freeze a real-time server. flushLogs() writes what is left on exit.
      stdout: getConsoleSink({
        nonBlocking: { bufferSize: 1000, flushInterval: 50 },
        formatter,
        levelMap: {
          trace: "log",
          debug: "log",
          info: "log",
          warning: "log",
          error: "log",
          fatal: "log",
        },
      }),
    },
    loggers: [
      {
        category: ["broadcaster"],
        sinks: ["stdout"],
        lowestLevel: options.level,
      },
      {
        category: ["logtape", "meta"],
        sinks: ["stdout"],
        lowestLevel: "warning",
      },
    ],
  });
}

/** Writes every buffered log line; call before the process exits. */
export async function flushLogs(): Promise<void> {
  await dispose();
}

/**
 * The logger of one part of the server, e.g. `log("connection")`.
 *
 * @example
 * ```ts
 * log("http").info("listening on {url}", { url: "http://localhost:8000" });
 * ```
 */
export function log(part: string): Logger {
  return getLogger(["broadcaster", part]);
}
