/**
 * The one `Deno.serve` handler: WebSocket upgrades and the REST routes, and
 * the server's lifecycle (start on a port, graceful shutdown).
 *
 * @module
 */

import { ApiKeys } from "../auth/api_key.ts";
import { TokenVerifier } from "../auth/jwt.ts";
import type { Config } from "../config.ts";
import type { Engine } from "../engine/engine.ts";
import { MemoryEngine } from "../engine/memory.ts";
import { RedisEngine } from "../engine/redis.ts";
import type { Message } from "../protocol/message.ts";
import { Hub } from "../hub/hub.ts";
import { log } from "../log.ts";
import { CloseCode } from "../protocol/close_codes.ts";
import type { Connection } from "./connection.ts";
import { CLIENT_JS } from "../client/bundle.generated.ts";
import { consolePage } from "../console/page.ts";
import { handleHistory } from "./history.ts";
import { ServerMetrics } from "../metrics/server_metrics.ts";
import { InFlight } from "./in_flight.ts";
import { refuseWithoutApiKey } from "./api_key_guard.ts";
import { handlePublish } from "./publish.ts";
import { corsHeaders, errorResponse, preflight } from "./responses.ts";
import { handleUpgrade, type UpgradeServices } from "./websocket.ts";

const logger = log("http");

/** How long shutdown waits for in-flight requests before it stops anyway. */
const SHUTDOWN_GRACE_MS = 8_000;
/** How long the listener gets to close once nothing is in flight. */
const LISTENER_CLOSE_MS = 1_000;
/** How long start-up waits for the engine (e.g. Redis) before serving anyway, unhealthy. */
const ENGINE_START_MS = 5_000;
/** How often connection timers (token lifetime) are checked: their precision. */
const TICK_MS = 1_000;

/** A running server. */
export interface BroadcasterServer {
  /** Where it listens, e.g. `http://127.0.0.1:8000/broadcaster` (with `BASE_PATH`). */
  readonly url: URL;
  /** Resolves once the server has stopped. */
  readonly finished: Promise<void>;
  /** REST requests being handled right now. */
  readonly requestsInFlight: number;
  /**
   * Stops accepting work (new requests get 503, `/health` too, so load
   * balancers move on), closes every socket with 1001, lets in-flight REST
   * requests finish (up to a grace period), then closes the listener and
   * releases the engine.
   */
  shutdown(): Promise<void>;
}

/** Options of {@linkcode startServer}. */
export interface StartOptions {
  /** Epoch milliseconds; `Date.now` unless a test controls time. */
  readonly clock?: () => number;
  /** What the web console is prefilled with (the dev server's token and key). */
  readonly consolePrefill?: {
    readonly token?: string;
    readonly apiKey?: string;
  };
}

function remoteOf(info: Deno.ServeHandlerInfo): string {
  const address = info.remoteAddr;
  return "hostname" in address ? address.hostname : "unknown";
}

/**
 * Starts a server with `config`; `port: 0` picks a free port.
 *
 * @example
 * ```ts
 * const server = await startServer(config);
 * console.log(`listening on ${server.url}`);
 * await server.shutdown();
 * ```
 */
export async function startServer(
  config: Config,
  options: StartOptions = {},
): Promise<BroadcasterServer> {
  const clock = options.clock ?? Date.now;
  // The engine is told when this node no longer needs a channel.
  const hub: Hub = new Hub({
    onChannel: (channel, active) => {
      if (!active) engine.unlisten(channel);
    },
  });
  const deliver = (message: Message) => hub.deliver(message);
  const engine: Engine =
    config.engine === "redis" && config.redisUrl !== undefined
      ? new RedisEngine({
        url: config.redisUrl,
        deliver,
        historySize: config.historySize,
        historyTtlSeconds: config.historyTtlSeconds,
      })
      : new MemoryEngine({
        deliver,
        historySize: config.historySize,
        historyTtlSeconds: config.historyTtlSeconds,
        clock,
      });
  await engine.start(ENGINE_START_MS);
  const connections = new Set<Connection>();
  const metrics = new ServerMetrics({
    hub,
    engine,
    connections: () => connections.size,
  });
  const metricsToken = config.metricsToken === undefined
    ? null
    : new ApiKeys([config.metricsToken]);
  const upgrade: UpgradeServices = {
    hub,
    engine,
    verifier: await TokenVerifier.create(config.jwtSecret),
    maxMessageBytes: config.maxMessageBytes,
    outbound: { limit: config.outboundBufferBytes, clock },
    clock,
    limits: {
      maxSubscriptions: config.maxSubscriptions,
      maxPayloadBytes: config.maxMessageBytes,
      rateLimit: config.rateLimit,
      historySize: config.historySize,
    },
    allowedOrigins: config.allowedOrigins,
    idleTimeoutSeconds: config.idleTimeoutSeconds,
    connections,
    metrics,
  };
  const apiKeys = new ApiKeys(config.apiKeys);
  const rest = {
    apiKeys,
    engine,
    maxMessageBytes: config.maxMessageBytes,
    historySize: config.historySize,
    metrics,
  };
  const base = config.basePath;
  const consoleHtml = config.console
    ? consolePage({ basePath: base, ...options.consolePrefill })
    : null;
  // One ticker for every connection's timers, instead of timers per connection.
  const ticker = setInterval(() => {
    const now = clock();
    for (const connection of connections) connection.tick(now);
  }, TICK_MS);
  Deno.unrefTimer(ticker);
  const inFlight = new InFlight();
  let draining = false;

  async function route(
    request: Request,
    pathname: string,
    info: Deno.ServeHandlerInfo,
  ): Promise<Response> {
    const method = request.method;
    switch (pathname) {
      case `${base}/websocket`:
        if (method !== "GET") return notAllowed("GET");
        return await handleUpgrade(request, remoteOf(info), upgrade);
      case `${base}/publish`:
        return await restRoute(
          request,
          "POST",
          (cors) => handlePublish(request, rest, cors),
        );
      case `${base}/history`:
        return await restRoute(
          request,
          "GET",
          (cors) => handleHistory(request, rest, cors),
        );
      case `${base}/client.js`:
        if (method !== "GET" && method !== "HEAD") return notAllowed("GET");
        return new Response(CLIENT_JS, {
          headers: {
            "content-type": "text/javascript; charset=utf-8",
            "access-control-allow-origin": "*",
            "cache-control": "no-cache",
          },
        });
      case base:
        // "/broadcaster" → "/broadcaster/", so the page's relative "./client.js" resolves.
        if (consoleHtml === null) {
          return errorResponse("NotFound", "no such route");
        }
        return Response.redirect(new URL(`${base}/`, request.url), 308);
      case `${base}/`:
        if (consoleHtml === null) {
          return errorResponse("NotFound", "no such route");
        }
        return new Response(consoleHtml, {
          headers: {
            "content-type": "text/html; charset=utf-8",
            "content-security-policy":
              "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self' ws: wss:",
            "x-content-type-options": "nosniff",
          },
        });
      case `${base}/metrics`: {
        if (method !== "GET") return notAllowed("GET");
        const refused = metricsToken === null
          ? null
          : refuseWithoutApiKey(request, metricsToken, new Headers());
        if (refused !== null) return refused;
        return new Response(metrics.registry.expose(), {
          headers: {
            "content-type": "text/plain; version=0.0.4; charset=utf-8",
          },
        });
      }
      case `${base}/health`:
        if (method !== "GET" && method !== "HEAD") return notAllowed("GET");
        return health(engine.healthy ? null : "engine unavailable");
      default:
        return errorResponse("NotFound", "no such route");
    }
  }

  /** A REST route: CORS on every answer, preflight, then the one method it serves. */
  async function restRoute(
    request: Request,
    allowed: "GET" | "POST",
    handle: (cors: Headers) => Promise<Response>,
  ): Promise<Response> {
    const cors = corsHeaders(
      config.allowedOrigins,
      request.headers.get("origin"),
    );
    if (request.method === "OPTIONS") {
      return preflight(cors, `${allowed}, OPTIONS`);
    }
    if (request.method !== allowed) return notAllowed(`${allowed}, OPTIONS`);
    return await handle(cors);
  }

  const server = Deno.serve({
    port: config.port,
    hostname: config.host,
    onListen: () => {},
  }, async (request, info) => {
    // Parsed once: routing, the drain check and the log line all need the path.
    const { pathname } = new URL(request.url);
    if (draining) {
      if (pathname === `${base}/health`) return health("shutting down");
      return errorResponse("Internal", "server shutting down", {
        status: 503,
        headers: { connection: "close" },
      });
    }
    inFlight.enter();
    const started = performance.now();
    let status = 500;
    try {
      const response = await route(request, pathname, info);
      status = response.status;
      return response;
    } catch (error) {
      logger.error("request failed: {error}", { error });
      return errorResponse("Internal", "internal error");
    } finally {
      inFlight.leave();
      // Upgrades are logged by their connection. The path only: a query may hold a token.
      if (status !== 101) {
        logger.info("{method} {path} {status} {durationMs} ms", {
          method: request.method,
          path: pathname,
          status,
          durationMs: Math.round((performance.now() - started) * 100) / 100,
        });
      }
    }
  });

  const address = server.addr;
  const host = address.hostname.includes(":")
    ? `[${address.hostname}]`
    : address.hostname;
  const url = new URL(`http://${host}:${address.port}${base}`);
  logger.info("listening on {url} with the {engine} engine", {
    url: url.href,
    engine: config.engine,
  });

  let stopping: Promise<void> | undefined;
  return {
    url,
    finished: server.finished,
    get requestsInFlight() {
      return inFlight.count;
    },
    shutdown() {
      stopping ??= (async () => {
        draining = true;
        logger.info(
          "shutting down: closing {connections} connections, {requests} requests in flight",
          { connections: upgrade.connections.size, requests: inFlight.count },
        );
        for (const connection of upgrade.connections) {
          connection.close(CloseCode.GoingAway, "server shutting down");
        }
        await within(inFlight.idle(), SHUTDOWN_GRACE_MS);
        await within(server.shutdown(), LISTENER_CLOSE_MS);
        clearInterval(ticker);
        await engine.close();
        logger.info("stopped");
      })();
      return stopping;
    },
  };
}

/** Waits for `promise`, but no longer than `milliseconds`. */
async function within(
  promise: Promise<unknown>,
  milliseconds: number,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    promise,
    new Promise((resolve) => {
      timer = setTimeout(resolve, milliseconds);
    }),
  ]);
  clearTimeout(timer);
}

/** `/health`: `200 ok`, or `503` with the reason the node cannot serve. */
function health(problem: string | null): Response {
  const headers = { "content-type": "text/plain" };
  return problem === null
    ? new Response("ok", { headers })
    : new Response(problem, { status: 503, headers });
}

function notAllowed(allow: string): Response {
  return errorResponse("InvalidArgument", "method not allowed", {
    status: 405,
    headers: { allow },
  });
}
