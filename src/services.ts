/**
 * Building the services one server runs on, with explicit wiring: the hub,
 * the engine that feeds it, the metrics that observe both, the token
 * verifier and the API keys. Each is built after what it needs, so nothing
 * refers forward.
 *
 * @module
 */

import { ApiKeys } from "./auth/api_key.ts";
import { TokenVerifier } from "./auth/jwt.ts";
import type { Config } from "./config.ts";
import { createEngine } from "./engine/create.ts";
import type { Engine } from "./engine/engine.ts";
import type { OpenConnection } from "./http/connection.ts";
import { Admission } from "./http/admission.ts";
import { carryOut } from "./http/control.ts";
import { TriggerClient } from "./http/trigger.ts";
import { Webhooks } from "./webhooks/webhooks.ts";
import { Hub } from "./hub/hub.ts";
import { PresenceFanout } from "./hub/presence_fanout.ts";
import { MeasuredEngine } from "./metrics/measured_engine.ts";
import { ServerMetrics } from "./metrics/server_metrics.ts";
import { createPresence } from "./presence/create.ts";
import { DEFAULT_CHANNEL_POLICY, Namespaces } from "./protocol/namespaces.ts";
import type { RedisNames } from "./engine/redis_names.ts";
import type { PresenceStore } from "./presence/presence.ts";
import type { Limits } from "./protocol/state.ts";
import { StreamPeaks } from "./protocol/nova/frames.ts";
import { keepsStreamState } from "./protocol/nova/stream.ts";

/** How long start-up waits for the engine (e.g. Redis) before serving anyway, unhealthy. */
const ENGINE_START_MS = 5_000;

/** Everything the request handler and the connections of one server share. */
export interface Services {
  /** The settings everything was built from. */
  readonly config: Config;
  /** Epoch milliseconds. */
  readonly clock: () => number;
  /** Local fan-out. */
  readonly hub: Hub;
  /** The engine, its publishes timed by the metrics. */
  readonly engine: Engine;
  /** Who is subscribed where (SPEC §8), cluster-wide with Redis. */
  readonly presence: PresenceStore;
  /** The back-end `trigger` calls (`triggerUrl`); `null` without one. */
  readonly trigger: TriggerClient | null;
  /** The back-ends told what happens (SPEC §10). */
  readonly webhooks: Webhooks;
  /** Tells local observers of join, leave and occupancy. */
  readonly presenceFanout: PresenceFanout;
  /** Every metric of the server. */
  readonly metrics: ServerMetrics;
  /** Checks tokens (`JWT_SECRET`). */
  readonly verifier: TokenVerifier;
  /** The keys REST publishers and readers authenticate with (`API_KEYS`). */
  readonly apiKeys: ApiKeys;
  /** `METRICS_TOKEN`, when `/metrics` requires one. */
  readonly metricsToken: ApiKeys | null;
  /** The limits every connection's reducer enforces, one object for all. */
  readonly limits: Limits;
  /** Every open connection: for shutdown, timers and the connections gauge. */
  readonly connections: Set<OpenConnection>;
  /** The caps on connections, and the counts behind them (SPEC §12). */
  readonly admission: Admission;
  /** The peaks of the Nova streams this node serves (SPEC §11). */
  readonly streamPeaks: StreamPeaks;
}

/** Options of {@linkcode buildServices}. */
export interface BuildOptions {
  /** Epoch milliseconds; `Date.now` unless a test controls time. */
  readonly clock?: () => number;
  /** The app's Redis key names (the default app's without it). */
  readonly names?: RedisNames;
}

/**
 * Builds and starts the services of `config`: the engine is started (or
 * given up on after 5 s, unhealthy, retrying on its own).
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * import { buildServices } from "./services.ts";
 *
 * const parsed = parseConfig({ JWT_SECRET: "0123456789abcdef0123456789abcdef", API_KEYS: "key" });
 * if (parsed.ok) {
 *   const services = await buildServices(parsed.config);
 *   await services.engine.close();
 * }
 * ```
 */
export async function buildServices(
  config: Config,
  options: BuildOptions = {},
): Promise<Services> {
  const clock = options.clock ?? Date.now;
  const hub = new Hub();
  const connections = new Set<OpenConnection>();
  const namespaces = new Namespaces({
    ...DEFAULT_CHANNEL_POLICY,
    historySize: config.historySize,
    historyTtlSeconds: config.historyTtlSeconds,
    presence: config.presence.enabled,
  }, config.namespaces);
  const names = options.names === undefined ? {} : { names: options.names };
  const engine = await createEngine(config.engine, {
    ...names,
    onControl: (command) => carryOut(command, connections),
    historyOf: (channel) => namespaces.policyOf(channel),
    // A Nova stream's state outlives its history (SPEC §11).
    ...(config.novaPath === "" ? {} : { keepsLatest: keepsStreamState }),
    deliver: (message) => hub.deliver(message),
    cluster: hub,
    historySize: config.historySize,
    historyTtlSeconds: config.historyTtlSeconds,
    clock,
  });
  // Refusals are counted by the metrics built next; none comes before then.
  const admission: Admission = new Admission(
    config.protection,
    (reason) => metrics.connectionsRefused.inc({ reason }),
  );
  const metrics = new ServerMetrics({
    hub,
    engine,
    connections: () => connections.size,
    pending: () => admission.pending,
  });
  const presenceFanout = new PresenceFanout(hub, {
    intervalMs: config.presence.occupancyIntervalMs,
    counters: {
      notified: (kind, amount) =>
        metrics.presenceNotifications.inc({ kind }, amount),
    },
    clock,
  });
  const webhooks = new Webhooks(config.webhooks, {
    delivered: () => metrics.webhooks.delivered.inc(),
    failed: () => metrics.webhooks.failed.inc(),
    retried: () => metrics.webhooks.retried.inc(),
    dropped: (amount) => metrics.webhooks.dropped.inc({}, amount),
  });
  metrics.observeWebhooks(webhooks);
  const presence = await createPresence(config.engine, {
    ...names,
    listener: (event) => presenceFanout.onEvent(event),
    leaveDelayMs: config.presence.leaveDelayMs,
    onTransition: (transition) => webhooks.add(transition),
  });
  metrics.observePresence(presence);
  // The engine and presence listen to the channels this node has subscribers for.
  hub.onChannel((channel, active) => {
    if (active) {
      presence.listen(channel);
    } else {
      engine.unlisten(channel);
      presence.unlisten(channel);
    }
  });
  hub.onPattern((pattern, active) => {
    if (!active) engine.unlistenPattern(pattern);
  });
  const measured = new MeasuredEngine(engine, metrics.publishLatency);
  await measured.start(ENGINE_START_MS);
  // Subscribes need presence too (Redis: its own connections): as long again at most.
  await presence.start(ENGINE_START_MS);
  return {
    config,
    clock,
    hub,
    engine: measured,
    presence,
    presenceFanout,
    webhooks,
    trigger: config.trigger === undefined
      ? null
      : new TriggerClient(config.trigger),
    metrics,
    verifier: new TokenVerifier(config.jwtSecret),
    apiKeys: new ApiKeys(config.apiKeys),
    metricsToken: config.metricsToken === undefined
      ? null
      : new ApiKeys([config.metricsToken]),
    limits: {
      maxSubscriptions: config.maxSubscriptions,
      maxMessageBytes: config.maxMessageBytes,
      rateLimit: config.rateLimit,
      outboundBufferBytes: config.outboundBufferBytes,
      presenceMaxMembers: config.presence.maxMembers,
      authTimeoutMs: config.protection.authTimeoutSeconds * 1000,
      namespaces,
      trigger: config.trigger !== undefined,
    },
    connections,
    admission,
    streamPeaks: new StreamPeaks(),
  };
}
