/**
 * Test fixture: a real server on a free loopback port, and tokens for it.
 *
 * @module
 */

import { mintToken, type TokenClaims } from "../../src/auth/jwt.ts";
import { type Config, parseConfig } from "../../src/config.ts";
import {
  type BroadcasterServer,
  type StartOptions,
  startServer,
} from "../../src/http/server.ts";
import { createHandler } from "../../src/http/handler.ts";
import { configureLogging } from "../../src/log.ts";
import { buildServices, type Services } from "../../src/services.ts";

/** The secret every test server signs with. */
export const TEST_SECRET = "test-secret-0123456789abcdef0123456789";
/** The API key every test server accepts. */
export const TEST_API_KEY = "test-api-key";

/** A config for tests: port 0 on loopback; `env` overrides any variable. */
export function testConfig(env: Record<string, string> = {}): Config {
  const parsed = parseConfig({
    JWT_SECRET: TEST_SECRET,
    API_KEYS: `other-key,${TEST_API_KEY}`,
    PORT: "0",
    HOST: "127.0.0.1",
    ...env,
  }, { readFile: (path) => Deno.readTextFileSync(path) });
  if (!parsed.ok) throw new Error(parsed.problems.join("; "));
  return parsed.config;
}

let loggingConfigured = false;

/** Only fatal log lines while tests run servers in this process; set up once. */
async function quietLogs(): Promise<void> {
  if (loggingConfigured) return;
  await configureLogging({ encoding: "console", level: "fatal" });
  loggingConfigured = true;
}

/** A running test server and where to reach it. */
export interface TestServer extends AsyncDisposable {
  readonly server: BroadcasterServer;
  /** `http://127.0.0.1:<port><BASE_PATH>` */
  readonly base: string;
  /** `ws://127.0.0.1:<port><BASE_PATH>/websocket` */
  readonly websocketUrl: string;
}

/**
 * Starts a server for one test; `await using` shuts it down.
 *
 * @example
 * ```ts
 * await using fixture = await serve();
 * ```
 */
export async function serve(
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<TestServer> {
  await quietLogs();
  const server = await startServer(testConfig(env), options);
  const base = server.url.href.replace(/\/$/, "");
  const websocketUrl = `${base.replace(/^http/, "ws")}/websocket`;
  return {
    server,
    base,
    websocketUrl,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/**
 * {@linkcode serve} with `config` as its `CONFIG_FILE`: written to a
 * temporary file, removed once the server has shut down.
 */
export async function serveWithConfig(
  config: Readonly<Record<string, unknown>>,
  env: Record<string, string> = {},
): Promise<TestServer> {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(file, JSON.stringify(config));
    const fixture = await serve({ ...env, CONFIG_FILE: file });
    return {
      ...fixture,
      [Symbol.asyncDispose]: async () => {
        try {
          await fixture[Symbol.asyncDispose]();
        } finally {
          await Deno.remove(file);
        }
      },
    };
  } catch (error) {
    await Deno.remove(file);
    throw error;
  }
}

/** A request handler with its services, for tests that need no port. */
export interface TestHandler extends AsyncDisposable {
  readonly services: Services;
  /** Answers a request to `path` (under `BASE_PATH`), as the server would. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Answers any request, as the server would. */
  handle(request: Request): Promise<Response>;
}

/**
 * The request handler of a test config, called directly: routing, CORS,
 * methods and API keys are tested without a socket (as Fresh tests its app).
 */
export async function handler(
  env: Record<string, string> = {},
): Promise<TestHandler> {
  await quietLogs();
  const config = testConfig(env);
  const services = await buildServices(config);
  const handle = createHandler(services);
  return {
    services,
    fetch: (path, init) =>
      handle(new Request(`http://localhost${config.basePath}${path}`, init)),
    handle: (request) => handle(request),
    [Symbol.asyncDispose]: () => services.engine.close(),
  };
}

/** Claims of a typical test token: both scopes on room1 and room2, one hour. */
export const DEFAULT_CLAIMS: TokenClaims = {
  sub: "alice",
  authorizedChannels: ["room1", "room2"],
  scope: ["subscribe", "publish"],
  ttlSeconds: 3600,
};

/** A token signed with {@linkcode TEST_SECRET}; `claims` override the defaults. */
export function token(claims: Partial<TokenClaims> = {}): string {
  return mintToken(TEST_SECRET, { ...DEFAULT_CLAIMS, ...claims }, Date.now());
}

/**
 * The value of one series in a `/metrics` text, e.g.
 * `broadcaster_connections` or `name{label="value"}`; fails if it is absent.
 */
export function seriesValue(text: string, series: string): number {
  const line = text.split("\n").find((line) => line.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no series ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

/** Publishes over REST with the test API key. */
export function restPublish(
  base: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${base}/publish`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_API_KEY}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/**
 * A call of the REST API with the test key: `GET path`, or `POST path` with
 * `body` as JSON. Its status and JSON answer.
 */
export async function apiCall(
  server: { readonly base: string },
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.base}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${TEST_API_KEY}` },
    body: body === undefined ? null : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}
