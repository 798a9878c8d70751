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

/** Fields of a log line, by name; never a secret or a token. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * The logger of one part of the server, as {@linkcode log} returns it:
 * messages are templates whose `{name}`s are filled from the fields.
 */
export interface PartLogger {
  /** Detail for developers (`LOG_LEVEL=debug`). */
  debug(message: string, fields?: LogFields): void;
  /** What happened: a connection opened, a request answered. */
  info(message: string, fields?: LogFields): void;
  /** Something failed that the server survives, e.g. the engine. */
  warning(message: string, fields?: LogFields): void;
  /** A bug or a failure an operator must look at. */
  error(message: string, fields?: LogFields): void;
  /** Whether `level` is written: skip building fields nobody reads. */
  isEnabledFor(level: "debug" | "info" | "warning" | "error"): boolean;
}

/** Options of {@linkcode configureLogging}. */
export interface LoggingOptions {
  /** `LOG_ENCODING`. */
  readonly encoding: "console" | "json";
  /** `LOG_LEVEL`: the lowest level written. */
  readonly level: LogLevel;
}

/**
 * One JSON object per line: `timestamp` (RFC 3339), `level`, `message`, the
 * logger, then every field flat.
 */
function jsonLine(record: LogRecord): string {
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
 * import { log } from "./log.ts";
 *
 * log("http").info("listening on {url}", { url: "http://localhost:8000" });
 * ```
 */
export function log(part: string): PartLogger {
  const logger: Logger = getLogger(["broadcaster", part]);
  return logger;
}
