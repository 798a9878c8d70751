/**
 * The request handler: routing, CORS, methods and API keys, one log line
 * per REST request. A plain `(Request) → Response` that tests call without
 * a port; only WebSocket upgrades need a real server.
 *
 * @module
 */

import { log } from "../log.ts";
import type { Services } from "../services.ts";
import { refuseWithoutApiKey } from "./api_key_guard.ts";
import { hasUnreadBody, settleUnreadBody } from "./body.ts";
import {
  clientScript,
  type ConsolePrefill,
  consoleResponder,
  favicon,
} from "./assets.ts";
import { handleHistory } from "./history.ts";
import { handlePresence, handlePresenceStats } from "./presence.ts";
import {
  handleChannels,
  handleDisconnect,
  handleNotify,
} from "./server_api.ts";
import type { InFlight } from "./in_flight.ts";
import { handlePublish } from "./publish.ts";
import {
  corsHeaders,
  errorResponse,
  type HeaderList,
  preflight,
} from "./responses.ts";
import { handleNovaUpgrade, novaEndpoint } from "./nova_upgrade.ts";
import { handleRtcUpgrade } from "./rtc_upgrade.ts";
import {
  handleWebRocketUpgrade,
  webRocketEndpoint,
} from "./webrocket_upgrade.ts";
import { handleUpgrade, isUpgrade } from "./websocket.ts";

const logger = log("http");

/** Answers one request; `info` (the peer's address) is absent in tests without a socket. */
export type Handler = (
  request: Request,
  info?: Deno.ServeHandlerInfo,
) => Promise<Response>;

/** Options of {@linkcode createHandler}. */
export interface HandlerOptions {
  /** What the web console is prefilled with (the dev server's token and key). */
  readonly consolePrefill?: ConsolePrefill;
  /** Counts requests being answered, for a graceful shutdown to wait on. */
  readonly inFlight?: InFlight;
}

function remoteOf(info: Deno.ServeHandlerInfo | undefined): string {
  const address = info?.remoteAddr;
  return address !== undefined && "hostname" in address
    ? address.hostname
    : "unknown";
}

/**
 * The client's address: the peer's, or behind a trusted proxy
 * (`TRUST_PROXY=true`) the last address of `X-Forwarded-For`, the one the
 * proxy added (a client may send its own header: the entries before it
 * prove nothing).
 */
export function clientAddress(
  request: Request,
  peer: string,
  trustProxy: boolean,
): string {
  if (!trustProxy) return peer;
  const forwarded = request.headers.get("x-forwarded-for");
  const last = forwarded?.split(",").at(-1)?.trim() ?? "";
  // An address (IPv4 or IPv6), or nothing to believe.
  return /^[0-9A-Fa-f.:]{2,45}$/.test(last) ? last : peer;
}

/**
 * The handler of a server built on `services`.
 *
 * @example
 * ```ts
 * import { parseConfig } from "../config.ts";
 * import { buildServices } from "../services.ts";
 * import { createHandler } from "./handler.ts";
 *
 * const parsed = parseConfig({ JWT_SECRET: "0123456789abcdef0123456789abcdef", API_KEYS: "key" });
 * if (parsed.ok) {
 *   const services = await buildServices(parsed.config);
 *   const handler = createHandler(services);
 *   const response = await handler(new Request("http://localhost/broadcaster/health"));
 *   console.log(response.status); // 200
 *   await services.engine.close();
 * }
 * ```
 */
export function createHandler(
  services: Services,
  options: HandlerOptions = {},
): Handler {
  const { config } = services;
  const base = config.basePath;
  const consolePage = config.console
    ? consoleResponder(base, options.consolePrefill ?? {})
    : null;
  // Built once: a route is matched by comparing strings, nothing more.
  const paths = {
    websocket: `${base}/websocket`,
    publish: `${base}/publish`,
    history: `${base}/history`,
    presence: `${base}/presence`,
    presenceStats: `${base}/presence/stats`,
    notify: `${base}/notify`,
    disconnect: `${base}/disconnect`,
    channels: `${base}/channels`,
    client: `${base}/client.js`,
    favicon: `${base}/favicon.svg`,
    console: `${base}/`,
    metrics: `${base}/metrics`,
    health: `${base}/health`,
    // Off the root, not under BASE_PATH; never matches when off.
    rtc: config.rtcPath === "" ? undefined : config.rtcPath,
  };
  const webRocket = webRocketEndpoint(services);
  // `{NOVA_PATH}/{stream_id}/ws`, off the root like /ws; built once, as its protocol.
  const nova = config.novaPath === ""
    ? null
    : { prefix: `${config.novaPath}/`, endpoint: novaEndpoint(services) };

  /** A REST route: CORS on every answer, preflight, then the one method it serves. */
  function rest(
    request: Request,
    allowed: "GET" | "POST",
    handle: (
      request: Request,
      services: Services,
      cors: HeaderList,
    ) => Promise<Response>,
  ): Promise<Response> | Response {
    const cors = corsHeaders(
      config.allowedOrigins,
      request.headers.get("origin"),
    );
    if (request.method === "OPTIONS") {
      return preflight(cors, `${allowed}, OPTIONS`);
    }
    if (request.method !== allowed) {
      return notAllowed(request.method, `${allowed}, OPTIONS`, cors);
    }
    return handle(request, services, cors);
  }

  const addressOf = (
    request: Request,
    info: Deno.ServeHandlerInfo | undefined,
  ) => clientAddress(request, remoteOf(info), config.protection.trustProxy);

  function route(
    request: Request,
    pathname: string,
    info: Deno.ServeHandlerInfo | undefined,
  ): Promise<Response> | Response {
    const method = request.method;
    const readOnly = method === "GET" || method === "HEAD";
    switch (pathname) {
      case paths.websocket:
        if (method !== "GET") return notAllowed(method, "GET");
        return handleUpgrade(request, addressOf(request, info), services);
      case paths.rtc:
        if (method !== "GET") return notAllowed(method, "GET");
        return handleRtcUpgrade(request, addressOf(request, info), services);
      case paths.publish:
        return rest(request, "POST", handlePublish);
      case paths.history:
        return rest(request, "GET", handleHistory);
      case paths.presence:
        return rest(request, "GET", handlePresence);
      case paths.presenceStats:
        return rest(request, "GET", handlePresenceStats);
      case paths.notify:
        return rest(request, "POST", handleNotify);
      case paths.disconnect:
        return rest(request, "POST", handleDisconnect);
      case paths.channels:
        return rest(request, "GET", handleChannels);
      case paths.client:
        return readOnly ? clientScript() : notAllowed(method, "GET");
      case paths.favicon:
        return readOnly ? favicon() : notAllowed(method, "GET");
      case base:
        // An app's path is its WebRocket vhost (`/world`), for an upgrade.
        if (webRocket !== null && isUpgrade(request)) {
          if (method !== "GET") return notAllowed(method, "GET");
          return handleWebRocketUpgrade(request, addressOf(request, info), {
            services,
            endpoint: webRocket,
          });
        }
        // "/broadcaster" → "/broadcaster/", so the page's relative "./client.js" resolves.
        if (consolePage === null) return notFound(pathname, base);
        return Response.redirect(new URL(`${base}/`, request.url), 308);
      case paths.console:
        return consolePage === null ? notFound(pathname, base) : consolePage();
      case paths.metrics: {
        if (method !== "GET") return notAllowed(method, "GET");
        const refused = services.metricsToken === null
          ? null
          : refuseWithoutApiKey(request, services.metricsToken, []);
        return refused ?? new Response(services.metrics.registry.expose(), {
          headers: {
            "content-type": "text/plain; version=0.0.4; charset=utf-8",
          },
        });
      }
      case paths.health:
        if (!readOnly) return notAllowed(method, "GET");
        return health(
          !services.engine.healthy
            ? "engine unavailable"
            : !services.presence.healthy
            ? "presence unavailable"
            : null,
        );
      default: {
        const streamId = nova === null
          ? null
          : streamIdIn(pathname, nova.prefix);
        if (nova === null || streamId === null) return notFound(pathname, base);
        if (method !== "GET") return notAllowed(method, "GET");
        return handleNovaUpgrade(request, streamId, {
          remote: addressOf(request, info),
          services,
          endpoint: nova.endpoint,
        });
      }
    }
  }

  const inFlight = options.inFlight;
  return async (request, info) => {
    inFlight?.enter();
    // Found once: routing and the log line both need the path.
    const pathname = pathOf(request.url);
    // Timed only when the line is written: LOG_LEVEL=warning costs nothing here.
    const started = logger.isEnabledFor("info") ? performance.now() : null;
    let status = 500;
    try {
      let response = await route(request, pathname, info);
      // A refusal that never read the body still settles it (SPEC §12);
      // checked here first, as most requests have no body left to settle.
      if (hasUnreadBody(request)) {
        response = await settleUnreadBody(
          request,
          response,
          config.maxMessageBytes,
          config.protection.requestTimeoutSeconds * 1000,
        );
      }
      status = response.status;
      return response;
    } catch (error) {
      logger.error("request failed: {error}", { error });
      return errorResponse("Internal", "internal error", {
        headers: corsHeaders(
          config.allowedOrigins,
          request.headers.get("origin"),
        ),
      });
    } finally {
      inFlight?.leave();
      // Upgrades are logged by their connection. The path only: a query may hold a token.
      if (started !== null && status !== 101) {
        logger.info("{method} {path} {status} {durationMs} ms", {
          method: request.method,
          path: pathname,
          status,
          durationMs: Math.round((performance.now() - started) * 100) / 100,
        });
      }
    }
  };
}

/** The stream id of `{prefix}{stream_id}/ws`, or `null` for another path. */
function streamIdIn(pathname: string, prefix: string): string | null {
  if (!pathname.startsWith(prefix) || !pathname.endsWith("/ws")) return null;
  const streamId = pathname.slice(prefix.length, -"/ws".length);
  return streamId === "" || streamId.includes("/") ? null : streamId;
}

/**
 * The path of an absolute request URL, without its query or fragment. Routing
 * needs no more than this, and a full URL parse was a measurable share of a
 * REST publish. Dot segments are left as they are: such a path matches no
 * route.
 *
 * @example
 * ```ts
 * import { pathOf } from "./handler.ts";
 *
 * pathOf("http://localhost:8000/broadcaster/history?channel=a"); // "/broadcaster/history"
 * pathOf("http://localhost:8000"); // "/"
 * ```
 */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  let end = url.length;
  const query = url.indexOf("?", start);
  if (query !== -1) end = query;
  const fragment = url.indexOf("#", start);
  if (fragment !== -1 && fragment < end) end = fragment;
  return url.slice(start, end);
}

/**
 * `/health`: `200 ok`, or `503` with the reason the node cannot serve.
 *
 * @example
 * ```ts
 * import { health } from "./handler.ts";
 *
 * health(null); // 200 "ok"
 * health("shutting down"); // 503
 * ```
 */
export function health(problem: string | null): Response {
  const headers = { "content-type": "text/plain" };
  return problem === null
    ? new Response("ok", { headers })
    : new Response(problem, { status: 503, headers });
}

/** 404; outside `BASE_PATH`, saying where the server lives. */
function notFound(pathname: string, base: string): Response {
  if (base !== "" && pathname !== base && !pathname.startsWith(`${base}/`)) {
    return errorResponse(
      "NotFound",
      `no such route: Broadcaster serves under ${base}/ (BASE_PATH), e.g. ${base}/health`,
    );
  }
  return errorResponse("NotFound", "no such route");
}

/** 405, naming the methods the route answers. */
function notAllowed(
  method: string,
  allow: string,
  cors: HeaderList = [],
): Response {
  return errorResponse(
    "MethodNotAllowed",
    `${method} is not allowed here; use ${allow.replace(", ", " or ")}`,
    { headers: [["allow", allow], ...cors] },
  );
}
