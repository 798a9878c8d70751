/**
 * Serving: the listener, the connections' ticker, draining and graceful
 * shutdown. What is served is built elsewhere: the services
 * (`src/services.ts`) and the request handler (`handler.ts`).
 *
 * @module
 */

import type { Config } from "../config.ts";
import type { AppConfig } from "../config_file.ts";
import { RedisNames } from "../engine/redis_names.ts";
import { log } from "../log.ts";
import { CloseCode } from "../protocol/close_codes.ts";
import { buildServices } from "../services.ts";
import type { ConsolePrefill } from "./assets.ts";
import { createHandler, health, pathOf } from "./handler.ts";
import { InFlight } from "./in_flight.ts";
import { MemoryReclaimer } from "./memory_reclaimer.ts";
import { corsHeaders, errorResponse } from "./responses.ts";

const logger = log("http");

/** How long shutdown waits for in-flight requests before it stops anyway. */
const SHUTDOWN_GRACE_MS = 8_000;
/** How long the listener gets to close once nothing is in flight. */
const LISTENER_CLOSE_MS = 1_000;
/** How often connection timers (token lifetime, slow consumers) are checked: their precision. */
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
  readonly consolePrefill?: ConsolePrefill;
}

/**
 * Starts a server with `config`; `port: 0` picks a free port.
 *
 * @example
 * ```ts
 * import { parseConfig } from "../config.ts";
 * import { startServer } from "./server.ts";
 *
 * const parsed = parseConfig({
 *   JWT_SECRET: "0123456789abcdef0123456789abcdef",
 *   API_KEYS: "key",
 *   PORT: "0",
 *   HOST: "127.0.0.1",
 * });
 * if (parsed.ok) {
 *   const server = await startServer(parsed.config);
 *   console.log(`listening on ${server.url}`);
 *   await server.shutdown();
 * }
 * ```
 */
export async function startServer(
  config: Config,
  options: StartOptions = {},
): Promise<BroadcasterServer> {
  const clock = options.clock ?? Date.now;
  const inFlight = new InFlight();
  // Each app (SPEC §10) has services of its own: nothing is shared but the port.
  const apps = await Promise.all(
    config.apps.map(async (app) => {
      const services = await buildServices(appConfig(config, app), {
        clock,
        names: RedisNames.forApp(app.id),
      });
      return {
        path: app.path,
        services,
        handler: createHandler(services, { inFlight }),
      };
    }),
  );
  const services = await buildServices(config, { clock });
  const defaultHandler = createHandler(
    services,
    options.consolePrefill === undefined
      ? { inFlight }
      : { inFlight, consolePrefill: options.consolePrefill },
  );
  const everyApp = [...apps.map((app) => app.services), services];
  const handler = (request: Request, info: Deno.ServeHandlerInfo) => {
    if (apps.length > 0) {
      const path = pathOf(request.url);
      for (const app of apps) {
        if (path === app.path || path.startsWith(`${app.path}/`)) {
          return app.handler(request, info);
        }
      }
    }
    return defaultHandler(request, info);
  };
  // One ticker for every connection's timers, instead of timers per
  // connection. It also hands the count of closed connections to the
  // reclaimer, which returns memory after a wave of closes (SPEC §12). Deno
  // holds a vanished peer's WebSocket until its idle timer fires, at half
  // IDLE_TIMEOUT_SECONDS: that is how long the closed sockets linger.
  const reclaimer = new MemoryReclaimer(
    config.idleTimeoutSeconds * 500 + TICK_MS,
  );
  const ticker = setInterval(() => {
    const now = clock();
    let closed = 0;
    for (const app of everyApp) {
      closed += app.admission.closed;
      for (const connection of app.connections) connection.tick(now);
    }
    reclaimer.observe(closed, now);
  }, TICK_MS);
  Deno.unrefTimer(ticker);
  let draining = false;

  const server = Deno.serve(
    {
      port: config.port,
      hostname: config.host,
      onListen: () => {},
    },
    (request, info) =>
      draining ? refuseWhileDraining(request, config) : handler(request, info),
  );

  const address = server.addr;
  const host = address.hostname.includes(":")
    ? `[${address.hostname}]`
    : address.hostname;
  const url = new URL(`http://${host}:${address.port}${config.basePath}`);
  logger.info("listening on {url} with the {engine} engine", {
    url: url.href,
    engine: config.engine.kind,
  });
  for (const app of config.apps) {
    const at = new URL(app.path, url);
    logger.info(
      app.users.length === 0
        ? "app {id} at {url}"
        : "app {id} at {url}, its WebRocket vhost at {webRocket}",
      {
        id: app.id,
        url: at.href,
        webRocket: at.href.replace(/^http/, "ws"),
      },
    );
  }

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
          {
            connections: everyApp.reduce(
              (sum, app) => sum + app.connections.size,
              0,
            ),
            requests: inFlight.count,
          },
        );
        for (const app of everyApp) {
          for (const connection of app.connections) {
            connection.close(CloseCode.GoingAway, "server shutting down");
          }
        }
        await within(inFlight.idle(), SHUTDOWN_GRACE_MS);
        await within(server.shutdown(), LISTENER_CLOSE_MS);
        clearInterval(ticker);
        for (const app of everyApp) {
          app.presenceFanout.close();
          app.webhooks.close();
          await app.presence.close();
          await app.engine.close();
        }
        logger.info("stopped");
      })();
      return stopping;
    },
  };
}

/**
 * While draining: `/health` says so (load balancers move on), everything else
 * gets 503, with CORS so a browser can read why.
 */
function refuseWhileDraining(request: Request, config: Config): Response {
  if (pathOf(request.url) === `${config.basePath}/health`) {
    return health("shutting down");
  }
  return errorResponse("Internal", "server shutting down", {
    status: 503,
    headers: [
      ["connection", "close"],
      ...corsHeaders(config.allowedOrigins, request.headers.get("origin")),
    ],
  });
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

/**
 * The settings of `app`: the environment's (port, limits, engine, presence)
 * with the app's own secret, keys, path and file settings. Its Redis keys
 * are its own too (`RedisNames.forApp`).
 */
export function appConfig(config: Config, app: AppConfig): Config {
  return {
    ...config,
    basePath: app.path,
    // The other protocols are the default app's (SPEC §11).
    rtcPath: "",
    novaPath: "",
    users: app.users,
    jwtSecret: app.jwtSecret,
    apiKeys: app.apiKeys,
    namespaces: app.namespaces,
    webhooks: app.webhooks,
    apps: [],
    ...(app.trigger === undefined ? {} : { trigger: app.trigger }),
  };
}
