/**
 * Settings, validated once at start from the environment.
 *
 * The original's variable names and defaults are kept (`PORT`, `JWT_SECRET`,
 * `API_KEYS`, `BASE_PATH`, `LOG_ENCODING`); the rest are ours. Every problem is
 * reported at once, and no message ever contains a setting's value, so a
 * mistyped secret cannot leak through an error.
 *
 * @module
 */

import { z } from "zod";
import {
  type AppConfig,
  type AppUser,
  type FileConfigResult,
  parseConfigFile,
  pathsOverlap,
  type TriggerConfig,
} from "./config_file.ts";
import type { WebhookConfig } from "./webhooks/webhooks.ts";
import type { ChannelPolicy } from "./protocol/namespaces.ts";

/** Log levels accepted by `LOG_LEVEL`. */
export type LogLevel =
  | "trace"
  | "debug"
  | "info"
  | "warning"
  | "error"
  | "fatal";

/** Which engine runs, with what it needs: `ENGINE`, and `REDIS_URL` for Redis. */
export type EngineConfig =
  | { readonly kind: "memory" }
  /** `url`: `redis://` or `rediss://`. */
  | { readonly kind: "redis"; readonly url: string };

/** The validated settings every module below `main.ts` receives. */
export interface Config {
  /** `PORT`; 0 picks a free one. */
  readonly port: number;
  /** `HOST`: the address to listen on. */
  readonly host: string;
  /** `JWT_SECRET`: the HS256 key tokens are signed with. */
  readonly jwtSecret: string;
  /** `API_KEYS`: the keys REST callers authenticate with. */
  readonly apiKeys: readonly string[];
  /** `""` or a path starting with `/`, without a trailing `/`. */
  readonly basePath: string;
  /**
   * `RTC_PATH`: where the Real-time Communication Service protocol is
   * served (SPEC §11), off the server root; `""` turns it off.
   */
  readonly rtcPath: string;
  /**
   * `NOVA_PATH`: the prefix of the Nova Streaming viewer protocol's
   * `{prefix}/{stream_id}/ws` (SPEC §11), off the root; `""` turns it off.
   */
  readonly novaPath: string;
  /** The Nova heartbeat (`NOVA_PING_INTERVAL_MS`, `NOVA_PING_TIMEOUT_MS`, `NOVA_IDLE_TIMEOUT_MS`): the document's 30 s, 10 s, 60 s. */
  readonly novaHeartbeat: {
    readonly pingIntervalMs: number;
    readonly pingTimeoutMs: number;
    readonly idleTimeoutMs: number;
  };
  /** `LOG_ENCODING`: human-readable lines, or JSON lines. */
  readonly logEncoding: "console" | "json";
  /** `LOG_LEVEL`. */
  readonly logLevel: LogLevel;
  /** `"*"` for any origin, or the exact origins allowed. */
  readonly allowedOrigins: "*" | readonly string[];
  /** `MAX_MESSAGE_BYTES`: the largest frame and REST body. */
  readonly maxMessageBytes: number;
  /** `MAX_SUBSCRIPTIONS` per connection. */
  readonly maxSubscriptions: number;
  /** `RATE_LIMIT`: requests per second per connection. */
  readonly rateLimit: number;
  /** `OUTBOUND_BUFFER_BYTES`: unsent bytes past which broadcasts are dropped. */
  readonly outboundBufferBytes: number;
  /** Seconds without a pong before the socket is closed; 0 disables pings. */
  readonly idleTimeoutSeconds: number;
  /** Hostile load (SPEC §12): what a node lets in, and for how long it waits. */
  readonly protection: {
    /** `AUTH_TIMEOUT_SECONDS`: an unauthenticated socket is closed with 4008 after this. */
    readonly authTimeoutSeconds: number;
    /** `MAX_CONNECTIONS`: sockets per node (0: no limit); past it, 503 before the upgrade. */
    readonly maxConnections: number;
    /** `MAX_CONNECTIONS_PER_USER`: sockets of one user per node (0: no limit). */
    readonly maxConnectionsPerUser: number;
    /** `MAX_PENDING_CONNECTIONS_PER_IP`: unauthenticated sockets per address; past it, 429. */
    readonly maxPendingPerAddress: number;
    /** `REQUEST_TIMEOUT_SECONDS`: a REST body not in by then gets 408. */
    readonly requestTimeoutSeconds: number;
    /** `TRUST_PROXY`: take the client's address from `X-Forwarded-For`. */
    readonly trustProxy: boolean;
  };
  /** `HISTORY_SIZE`: messages kept per channel. */
  readonly historySize: number;
  /** `HISTORY_TTL_SECONDS`: how long they are kept. */
  readonly historyTtlSeconds: number;
  /** Where messages live: this process, or Redis shared by several nodes. */
  readonly engine: EngineConfig;
  /** Presence and occupancy (SPEC §8). */
  readonly presence: PresenceConfig;
  /** Channel settings by namespace, from `CONFIG_FILE` (SPEC §10). */
  readonly namespaces: Readonly<Record<string, Partial<ChannelPolicy>>>;
  /** The back-end `trigger` calls, from `CONFIG_FILE`; none without it. */
  readonly trigger?: TriggerConfig;
  /** The back-ends told what happens, from `CONFIG_FILE` (SPEC §10). */
  readonly webhooks: readonly WebhookConfig[];
  /**
   * The app's WebRocket users (SPEC §10, §11): an app's from `CONFIG_FILE`;
   * none for the default app, which serves no WebRocket endpoint.
   */
  readonly users: readonly AppUser[];
  /** Other apps, each isolated under its own path, from `CONFIG_FILE` (SPEC §10). */
  readonly apps: readonly AppConfig[];
  /** Whether the web console is served at `{BASE_PATH}/`. */
  readonly console: boolean;
  /** When set, `/metrics` requires `Authorization: Bearer <token>`. */
  readonly metricsToken: string | undefined;
}

/** The presence settings (SPEC §8). */
export interface PresenceConfig {
  /** `PRESENCE`: whether subscriptions are presence members (a namespace may turn it off, §10). */
  readonly enabled: boolean;
  /** `PRESENCE_MAX_MEMBERS`: the most members a `presence` answer lists. */
  readonly maxMembers: number;
  /** `PRESENCE_LEAVE_DELAY_MS`: how long a user may be gone before `leave`. */
  readonly leaveDelayMs: number;
  /** `OCCUPANCY_INTERVAL_MS`: the least time between two `occupancy` updates of a channel. */
  readonly occupancyIntervalMs: number;
}

/** Every variable the server reads, with its default as documented in the README. */
export const DEFAULTS = {
  PORT: "8000",
  HOST: "0.0.0.0",
  BASE_PATH: "/broadcaster",
  RTC_PATH: "/ws",
  NOVA_PATH: "/api/v1/streams",
  NOVA_PING_INTERVAL_MS: "30000",
  NOVA_PING_TIMEOUT_MS: "10000",
  NOVA_IDLE_TIMEOUT_MS: "60000",
  LOG_ENCODING: "console",
  LOG_LEVEL: "info",
  ALLOWED_ORIGINS: "*",
  MAX_MESSAGE_BYTES: "65536",
  MAX_SUBSCRIPTIONS: "128",
  RATE_LIMIT: "100",
  OUTBOUND_BUFFER_BYTES: "1048576",
  IDLE_TIMEOUT_SECONDS: "60",
  AUTH_TIMEOUT_SECONDS: "10",
  MAX_CONNECTIONS: "0",
  MAX_CONNECTIONS_PER_USER: "0",
  MAX_PENDING_CONNECTIONS_PER_IP: "100",
  REQUEST_TIMEOUT_SECONDS: "10",
  TRUST_PROXY: "false",
  HISTORY_SIZE: "1000",
  HISTORY_TTL_SECONDS: "300",
  ENGINE: "memory",
  PRESENCE: "true",
  PRESENCE_MAX_MEMBERS: "1000",
  PRESENCE_LEAVE_DELAY_MS: "5000",
  OCCUPANCY_INTERVAL_MS: "100",
  CONSOLE: "true",
  ALLOW_WEAK_JWT_SECRET: "false",
} as const;

function integer(name: string, min: number, max: number) {
  const range = `a whole number from ${min} to ${max}`;
  return z.string()
    .regex(/^\d+$/, `${name} must be ${range}`)
    .transform(Number)
    .refine(
      (value) => value >= min && value <= max,
      `${name} must be ${range}`,
    );
}

/** Variables whose empty value means something (`""`: at the root, or off). */
const KEEPS_EMPTY: ReadonlySet<string> = new Set([
  "BASE_PATH",
  "RTC_PATH",
  "NOVA_PATH",
]);

/** A path off the root where a dialect is served, or `""` for off. */
function dialectPath(name: string) {
  return z.string()
    .transform((path) => path.replace(/\/+$/, ""))
    .refine(
      (path) => path === "" || /^(\/[A-Za-z0-9._~-]+)+$/.test(path),
      `${name} must be "" (off) or a path starting with "/"`,
    );
}

function list(value: string): string[] {
  return value.split(",").map((item) => item.trim()).filter((item) =>
    item !== ""
  );
}

const schema = z.object({
  PORT: integer("PORT", 0, 65535),
  HOST: z.string().min(1, "HOST must not be empty"),
  JWT_SECRET: z.string({ error: "JWT_SECRET is required" })
    .min(1, "JWT_SECRET is required"),
  API_KEYS: z.string({ error: "API_KEYS is required (comma-separated keys)" })
    .transform(list)
    .refine(
      (keys) => keys.length > 0,
      "API_KEYS must hold at least one key (comma-separated)",
    ),
  BASE_PATH: z.string()
    .transform((path) => path.replace(/\/+$/, ""))
    .refine(
      (path) => path === "" || /^\/[A-Za-z0-9._~\-\/]*$/.test(path),
      'BASE_PATH must be "" or a path starting with "/"',
    ),
  RTC_PATH: dialectPath("RTC_PATH"),
  NOVA_PATH: dialectPath("NOVA_PATH"),
  NOVA_PING_INTERVAL_MS: integer("NOVA_PING_INTERVAL_MS", 100, 3_600_000),
  NOVA_PING_TIMEOUT_MS: integer("NOVA_PING_TIMEOUT_MS", 100, 3_600_000),
  NOVA_IDLE_TIMEOUT_MS: integer("NOVA_IDLE_TIMEOUT_MS", 100, 3_600_000),
  LOG_ENCODING: z.enum(["console", "json"], {
    error: 'LOG_ENCODING must be "console" or "json"',
  }),
  LOG_LEVEL: z.string()
    .transform((level) => level.toLowerCase())
    .pipe(
      z.enum(["trace", "debug", "info", "warn", "warning", "error", "fatal"], {
        error:
          "LOG_LEVEL must be one of trace, debug, info, warning, error, fatal",
      }),
    )
    .transform((level): LogLevel => level === "warn" ? "warning" : level),
  ALLOWED_ORIGINS: z.string()
    .transform((value): "*" | string[] =>
      value.trim() === "*" ? "*" : list(value)
    )
    .refine(
      (origins) => origins === "*" || origins.length > 0,
      'ALLOWED_ORIGINS must be "*" or a comma-separated list of origins',
    ),
  MAX_MESSAGE_BYTES: integer("MAX_MESSAGE_BYTES", 256, 64 * 1024 * 1024),
  MAX_SUBSCRIPTIONS: integer("MAX_SUBSCRIPTIONS", 1, 1_000_000),
  RATE_LIMIT: integer("RATE_LIMIT", 1, 1_000_000),
  OUTBOUND_BUFFER_BYTES: integer(
    "OUTBOUND_BUFFER_BYTES",
    1024,
    1024 * 1024 * 1024,
  ),
  IDLE_TIMEOUT_SECONDS: integer("IDLE_TIMEOUT_SECONDS", 0, 86_400),
  AUTH_TIMEOUT_SECONDS: integer("AUTH_TIMEOUT_SECONDS", 1, 3_600),
  MAX_CONNECTIONS: integer("MAX_CONNECTIONS", 0, 10_000_000),
  MAX_CONNECTIONS_PER_USER: integer("MAX_CONNECTIONS_PER_USER", 0, 1_000_000),
  MAX_PENDING_CONNECTIONS_PER_IP: integer(
    "MAX_PENDING_CONNECTIONS_PER_IP",
    1,
    10_000_000,
  ),
  REQUEST_TIMEOUT_SECONDS: integer("REQUEST_TIMEOUT_SECONDS", 1, 3_600),
  TRUST_PROXY: z.enum(["true", "false"], {
    error: 'TRUST_PROXY must be "true" or "false"',
  }).transform((value) => value === "true"),
  HISTORY_SIZE: integer("HISTORY_SIZE", 0, 1_000_000),
  HISTORY_TTL_SECONDS: integer("HISTORY_TTL_SECONDS", 1, 31_536_000),
  ENGINE: z.enum(["memory", "redis"], {
    error: 'ENGINE must be "memory" or "redis"',
  }),
  PRESENCE: z.enum(["true", "false"], {
    error: 'PRESENCE must be "true" or "false"',
  }).transform((value) => value === "true"),
  PRESENCE_MAX_MEMBERS: integer("PRESENCE_MAX_MEMBERS", 1, 1_000_000),
  PRESENCE_LEAVE_DELAY_MS: integer("PRESENCE_LEAVE_DELAY_MS", 0, 3_600_000),
  OCCUPANCY_INTERVAL_MS: integer("OCCUPANCY_INTERVAL_MS", 10, 60_000),
  CONSOLE: z.enum(["true", "false"], {
    error: 'CONSOLE must be "true" or "false"',
  }).transform((value) => value === "true"),
  METRICS_TOKEN: z.string().optional(),
  CONFIG_FILE: z.string().optional(),
  ALLOW_WEAK_JWT_SECRET: z.enum(["true", "false"], {
    error: 'ALLOW_WEAK_JWT_SECRET must be "true" or "false"',
  }).transform((value) => value === "true"),
  REDIS_URL: z.string()
    .refine(
      (url) => /^rediss?:\/\//.test(url) && URL.canParse(url),
      "REDIS_URL must be a redis:// or rediss:// URL",
    )
    .optional(),
});

/** The engine's settings; `null` for Redis without a URL (already listed as a problem). */
function engineConfig(
  engine: "memory" | "redis",
  url: string | undefined,
): EngineConfig | null {
  if (engine === "memory") return { kind: "memory" };
  return url === undefined ? null : { kind: "redis", url };
}

/**
 * The outcome of {@linkcode parseConfig}: settings (and warnings to log at
 * every start), or every problem found.
 */
export type ConfigResult =
  | {
    readonly ok: true;
    readonly config: Config;
    readonly warnings: readonly string[];
  }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Options of {@linkcode parseConfig}. */
export interface ParseOptions {
  /** Accept a short `JWT_SECRET` without a word (`--dev`: nothing is at stake). */
  readonly development?: boolean;
  /** Reads `CONFIG_FILE` (`Deno.readTextFileSync` in `main.ts`); without it, a file given is a problem. */
  readonly readFile?: (path: string) => string;
}

/** The default app's routes: an app at the root must not take their names. */
const DEFAULT_ROUTES: ReadonlySet<string> = new Set([
  "websocket",
  "publish",
  "history",
  "presence",
  "notify",
  "disconnect",
  "channels",
  "metrics",
  "health",
  "client.js",
  "favicon.svg",
]);

/**
 * Where a dialect's path (`RTC_PATH`, `NOVA_PATH`) clashes with the default
 * app's routes or an app's path: a request could not tell them apart.
 */
function dialectPathProblems(
  name: string,
  path: string,
  basePath: string,
  apps: readonly { readonly path: string }[],
): string[] {
  if (path === "") return [];
  const problems: string[] = [];
  const route = basePath === ""
    ? path.slice(1)
    : path.startsWith(`${basePath}/`)
    ? path.slice(basePath.length + 1)
    : null;
  if (
    path === basePath ||
    (route !== null && DEFAULT_ROUTES.has(route.split("/")[0] ?? ""))
  ) {
    problems.push(
      `${name} ${JSON.stringify(path)} clashes with a route under BASE_PATH ${
        JSON.stringify(basePath)
      }`,
    );
  }
  apps.forEach((app, index) => {
    if (pathsOverlap(app.path, path)) {
      problems.push(
        `${name} ${
          JSON.stringify(path)
        } overlaps CONFIG_FILE apps.${index}.path ${JSON.stringify(app.path)}`,
      );
    }
  });
  return problems;
}

/** RFC 7518 §3.2: an HS256 key at least as long as the hash output. */
export const MIN_JWT_SECRET_BYTES = 32;

/** API keys shorter than this are warned about (not refused: publishers must keep working). */
export const MIN_API_KEY_LENGTH = 16;

const STRONG_SECRET_HINT = "make one with: openssl rand -base64 32";

/** A short secret refused, or allowed with a warning; short API keys warned about. */
function secretStrength(
  secret: string,
  apiKeys: readonly string[],
  allowWeak: boolean,
  options: ParseOptions,
): { problems: string[]; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const bytes = new TextEncoder().encode(secret).length;
  if (bytes < MIN_JWT_SECRET_BYTES && options.development !== true) {
    if (allowWeak) {
      warnings.push(
        `JWT_SECRET is ${bytes} bytes, under ${MIN_JWT_SECRET_BYTES} (allowed by ALLOW_WEAK_JWT_SECRET=true); ${STRONG_SECRET_HINT}`,
      );
    } else {
      problems.push(
        `JWT_SECRET must be at least ${MIN_JWT_SECRET_BYTES} bytes (RFC 7518 §3.2), it is ${bytes}; ${STRONG_SECRET_HINT} (ALLOW_WEAK_JWT_SECRET=true starts with a shorter one, for a deployment moving over from the Go server)`,
      );
    }
  }
  const short = apiKeys.filter((key) => key.length < MIN_API_KEY_LENGTH).length;
  if (short > 0 && options.development !== true) {
    warnings.push(
      `${short} of the API_KEYS ${
        short === 1 ? "is" : "are"
      } shorter than ${MIN_API_KEY_LENGTH} characters: easy to guess; ${STRONG_SECRET_HINT}`,
    );
  }
  return { problems, warnings };
}

/** The settings of `CONFIG_FILE`, none when it is unset. */
function configFile(
  path: string | undefined,
  options: ParseOptions,
): FileConfigResult {
  if (path === undefined) {
    return { ok: true, file: { namespaces: {}, webhooks: [], apps: [] } };
  }
  if (options.readFile === undefined) {
    return { ok: false, problems: ["CONFIG_FILE cannot be read here"] };
  }
  let text: string;
  try {
    text = options.readFile(path);
  } catch (error) {
    return {
      ok: false,
      problems: [
        `CONFIG_FILE ${JSON.stringify(path)} cannot be read: ${
          error instanceof Error ? error.message : String(error)
        }`,
      ],
    };
  }
  return parseConfigFile(text);
}

/**
 * Validates an environment into {@linkcode Config}. Unset and empty variables
 * take their defaults (except `BASE_PATH`, `RTC_PATH` and `NOVA_PATH`,
 * where `""` is meaningful).
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 *
 * const result = parseConfig({
 *   JWT_SECRET: "0123456789abcdef0123456789abcdef",
 *   API_KEYS: "publisher-key-0123",
 * });
 * if (result.ok) console.log(result.config.port); // 8000
 * ```
 */
export function parseConfig(
  env: Readonly<Record<string, string | undefined>>,
  options: ParseOptions = {},
): ConfigResult {
  const input: Record<string, string | undefined> = {};
  for (const name of Object.keys(schema.shape)) {
    const value = env[name];
    const unset = value === undefined ||
      (value.trim() === "" && !KEEPS_EMPTY.has(name));
    input[name] = unset ? DEFAULTS[name as keyof typeof DEFAULTS] : value;
  }
  const parsed = schema.safeParse(input);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => issue.message);
  // By hand: zod skips object-level checks once a field failed, and every problem is listed at once.
  if (input.ENGINE === "redis" && input.REDIS_URL === undefined) {
    problems.push("REDIS_URL is required when ENGINE=redis");
  }
  // From the raw values: a weak secret is listed with every other problem.
  const secret = input.JWT_SECRET ?? "";
  const strength = secretStrength(
    secret,
    list(input.API_KEYS ?? ""),
    input.ALLOW_WEAK_JWT_SECRET === "true",
    secret === "" ? { development: true } : options,
  );
  problems.push(...strength.problems);
  const file = configFile(input.CONFIG_FILE, options);
  if (!file.ok) problems.push(...file.problems);
  // App paths hang off the root, never over or under BASE_PATH's.
  const basePath = input.BASE_PATH ?? "";
  file.ok && file.file.apps.forEach((app, index) => {
    // At the root, the default app's routes are the names to avoid.
    const clashes = basePath === ""
      ? DEFAULT_ROUTES.has(app.path.split("/")[1] ?? "")
      : pathsOverlap(app.path, basePath);
    if (clashes) {
      problems.push(
        `CONFIG_FILE apps.${index}.path: ${
          JSON.stringify(app.path)
        } overlaps BASE_PATH ${JSON.stringify(basePath)}`,
      );
    }
  });
  const apps = file.ok ? file.file.apps : [];
  const rtcPath = (input.RTC_PATH ?? "").replace(/\/+$/, "");
  const novaPath = (input.NOVA_PATH ?? "").replace(/\/+$/, "");
  problems.push(
    ...dialectPathProblems("RTC_PATH", rtcPath, basePath, apps),
    ...dialectPathProblems("NOVA_PATH", novaPath, basePath, apps),
  );
  if (rtcPath !== "" && novaPath !== "" && pathsOverlap(rtcPath, novaPath)) {
    problems.push(
      `RTC_PATH ${JSON.stringify(rtcPath)} overlaps NOVA_PATH ${
        JSON.stringify(novaPath)
      }`,
    );
  }
  if (!parsed.success || !file.ok || problems.length > 0) {
    return { ok: false, problems };
  }
  const values = parsed.data;
  const engine = engineConfig(values.ENGINE, values.REDIS_URL);
  if (engine === null) return { ok: false, problems };
  return {
    ok: true,
    config: {
      port: values.PORT,
      host: values.HOST,
      jwtSecret: values.JWT_SECRET,
      apiKeys: values.API_KEYS,
      basePath: values.BASE_PATH,
      rtcPath: values.RTC_PATH,
      novaPath: values.NOVA_PATH,
      novaHeartbeat: {
        pingIntervalMs: values.NOVA_PING_INTERVAL_MS,
        pingTimeoutMs: values.NOVA_PING_TIMEOUT_MS,
        idleTimeoutMs: values.NOVA_IDLE_TIMEOUT_MS,
      },
      logEncoding: values.LOG_ENCODING,
      logLevel: values.LOG_LEVEL,
      allowedOrigins: values.ALLOWED_ORIGINS,
      maxMessageBytes: values.MAX_MESSAGE_BYTES,
      maxSubscriptions: values.MAX_SUBSCRIPTIONS,
      rateLimit: values.RATE_LIMIT,
      outboundBufferBytes: values.OUTBOUND_BUFFER_BYTES,
      idleTimeoutSeconds: values.IDLE_TIMEOUT_SECONDS,
      protection: {
        authTimeoutSeconds: values.AUTH_TIMEOUT_SECONDS,
        maxConnections: values.MAX_CONNECTIONS,
        maxConnectionsPerUser: values.MAX_CONNECTIONS_PER_USER,
        maxPendingPerAddress: values.MAX_PENDING_CONNECTIONS_PER_IP,
        requestTimeoutSeconds: values.REQUEST_TIMEOUT_SECONDS,
        trustProxy: values.TRUST_PROXY,
      },
      historySize: values.HISTORY_SIZE,
      historyTtlSeconds: values.HISTORY_TTL_SECONDS,
      engine,
      presence: {
        enabled: values.PRESENCE,
        maxMembers: values.PRESENCE_MAX_MEMBERS,
        leaveDelayMs: values.PRESENCE_LEAVE_DELAY_MS,
        occupancyIntervalMs: values.OCCUPANCY_INTERVAL_MS,
      },
      namespaces: file.file.namespaces,
      webhooks: file.file.webhooks,
      users: [],
      apps: file.file.apps,
      ...(file.file.trigger === undefined
        ? {}
        : { trigger: file.file.trigger }),
      console: values.CONSOLE,
      metricsToken: values.METRICS_TOKEN,
    },
    warnings: strength.warnings,
  };
}
