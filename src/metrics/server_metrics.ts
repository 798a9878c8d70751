/**
 * The server's metrics: what the shell counts as it goes, and what is read
 * from the hub, the engine and the process when `/metrics` is scraped.
 * Metrics observe; publish timing wraps the engine (`measured_engine.ts`).
 *
 * @module
 */

import process from "node:process";
import type { Engine } from "../engine/engine.ts";
import type { Hub } from "../hub/hub.ts";
import {
  Counter,
  type CounterSeries,
  Histogram,
  Registry,
  Sampled,
} from "./registry.ts";

/** Where scrape-time values come from. */
export interface MetricSources {
  /** Subscriptions and channels of this node. */
  readonly hub: Hub;
  /** Whether the engine is up. */
  readonly engine: Engine;
  /** Open WebSocket connections. */
  readonly connections: () => number;
  /** Unauthenticated sockets now. */
  readonly pending?: () => number;
}

/** Publish latency buckets, in seconds: 0.1 ms to 2.5 s. */
const LATENCY_BUCKETS = [
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  1,
  2.5,
];

/**
 * Every metric of one server.
 *
 * @example
 * ```ts
 * import { MemoryEngine } from "../engine/memory.ts";
 * import { Hub } from "../hub/hub.ts";
 * import { ServerMetrics } from "./server_metrics.ts";
 *
 * const hub = new Hub();
 * const engine = new MemoryEngine({
 *   deliver: (message) => hub.deliver(message),
 *   historySize: 100,
 *   historyTtlSeconds: 300,
 * });
 * const metrics = new ServerMetrics({ hub, engine, connections: () => 0 });
 * metrics.published.rest.inc();
 * console.log(metrics.registry.expose());
 * await engine.close();
 * ```
 */
export class ServerMetrics {
  /** Every metric, as `/metrics` exposes them. */
  readonly registry = new Registry();
  /** Messages accepted, by transport; series bound once for the publish path. */
  readonly published: Readonly<Record<"rest" | "websocket", CounterSeries>>;
  /** Broadcasts dropped for slow consumers; bound once for the fan-out path. */
  readonly dropped: CounterSeries;
  /** Connections closed with 1013. */
  readonly slowConsumerDisconnects: Counter;
  /** Connections closed with 4008: not authenticated in time (SPEC §12). */
  readonly staleConnections: Counter;
  /** Upgrades (and `auth`s) refused by a cap, by reason (SPEC §12). */
  readonly connectionsRefused: Counter;
  /** Tokens refused, by reason. */
  readonly authFailures: Counter;
  /** Requests refused by the per-connection rate limit. */
  readonly rateLimited: Counter;
  /** Seconds from accepting a publish to the engine having it (and the local fan-out done). */
  readonly publishLatency: Histogram;
  /** `join`, `leave` and `occupancy` notifications sent, by kind. */
  readonly presenceNotifications: Counter;
  /** `presence` and `presenceStats` answered, by kind and transport. */
  readonly presenceQueries: Counter;
  /** Seconds a back-end took to answer a `trigger` (failures included). */
  readonly triggerLatency: Histogram;
  /** Webhook batches delivered, attempts failed and retried, events dropped. */
  readonly webhooks: {
    readonly delivered: Counter;
    readonly failed: Counter;
    readonly retried: Counter;
    readonly dropped: Counter;
  };

  /** Registers every metric, reading scrape-time values from `sources`. */
  constructor(sources: MetricSources) {
    const r = this.registry;
    r.add(
      new Sampled(
        "broadcaster_connections",
        "Open WebSocket connections.",
        "gauge",
        sources.connections,
      ),
    );
    const pending = sources.pending;
    if (pending !== undefined) {
      r.add(
        new Sampled(
          "broadcaster_pending_connections",
          "Sockets not authenticated yet (closed with 4008 after AUTH_TIMEOUT_SECONDS).",
          "gauge",
          pending,
        ),
      );
    }
    r.add(
      new Sampled(
        "broadcaster_subscriptions",
        "Subscriptions held by this node.",
        "gauge",
        () => sources.hub.subscriptionCount,
      ),
    );
    r.add(
      new Sampled(
        "broadcaster_channels",
        "Channels with at least one subscriber on this node.",
        "gauge",
        () => sources.hub.channelCount,
      ),
    );
    const published = r.add(
      new Counter(
        "broadcaster_messages_published_total",
        "Messages accepted for publishing, by transport (rest, websocket).",
      ),
    );
    this.published = {
      rest: published.series({ transport: "rest" }),
      websocket: published.series({ transport: "websocket" }),
    };
    r.add(
      new Sampled(
        "broadcaster_deliveries_total",
        "Broadcasts handed to subscribers on this node, dropped ones included.",
        "counter",
        () => sources.hub.delivered,
      ),
    );
    this.dropped = r.add(
      new Counter(
        "broadcaster_deliveries_dropped_total",
        "Broadcasts dropped for slow consumers (their seq shows the gap).",
      ),
    ).series();
    this.slowConsumerDisconnects = r.add(
      new Counter(
        "broadcaster_slow_consumer_disconnects_total",
        "Connections closed with 1013 as slow consumers.",
      ),
    );
    this.connectionsRefused = r.add(
      new Counter(
        "broadcaster_connections_refused_total",
        "Connections refused by a cap (SPEC §12), by reason: max_connections, pending_per_address, connections_per_user.",
      ),
    );
    this.staleConnections = r.add(
      new Counter(
        "broadcaster_stale_connections_total",
        "Connections closed with 4008: not authenticated within AUTH_TIMEOUT_SECONDS.",
      ),
    );
    this.authFailures = r.add(
      new Counter(
        "broadcaster_auth_failures_total",
        "Tokens refused, by reason.",
      ),
    );
    this.rateLimited = r.add(
      new Counter(
        "broadcaster_rate_limited_total",
        "Requests refused by the per-connection rate limit.",
      ),
    );
    this.publishLatency = r.add(
      new Histogram(
        "broadcaster_publish_duration_seconds",
        "Time to publish a message through the engine.",
        LATENCY_BUCKETS,
      ),
    );
    this.presenceNotifications = r.add(
      new Counter(
        "broadcaster_presence_notifications_total",
        "Presence notifications sent to subscribers, by kind (join, leave, occupancy).",
      ),
    );
    this.presenceQueries = r.add(
      new Counter(
        "broadcaster_presence_queries_total",
        "Presence queries answered, by kind (presence, stats) and transport (rest, websocket).",
      ),
    );
    this.webhooks = {
      delivered: r.add(
        new Counter(
          "broadcaster_webhook_deliveries_total",
          "Webhook batches a back-end accepted (2xx).",
        ),
      ),
      failed: r.add(
        new Counter(
          "broadcaster_webhook_failures_total",
          "Webhook attempts that failed (network, timeout, non-2xx).",
        ),
      ),
      retried: r.add(
        new Counter(
          "broadcaster_webhook_retries_total",
          "Webhook attempts after a failure.",
        ),
      ),
      dropped: r.add(
        new Counter(
          "broadcaster_webhook_dropped_total",
          "Webhook events dropped: a full queue, or given up after 5 minutes.",
        ),
      ),
    };
    this.triggerLatency = r.add(
      new Histogram(
        "broadcaster_trigger_duration_seconds",
        "Time a back-end took to answer a trigger, failures included.",
        LATENCY_BUCKETS,
      ),
    );
    r.add(
      new Sampled(
        "broadcaster_engine_up",
        "1 while the engine (e.g. Redis) is reachable, else 0.",
        "gauge",
        () => sources.engine.healthy ? 1 : 0,
      ),
    );
    r.add(
      new Sampled(
        "process_cpu_seconds_total",
        "Total user and system CPU time spent in seconds.",
        "counter",
        () => {
          const { user, system } = process.cpuUsage();
          return (user + system) / 1e6;
        },
      ),
    );
    r.add(
      new Sampled(
        "process_resident_memory_bytes",
        "Resident memory size in bytes.",
        "gauge",
        () => Deno.memoryUsage().rss,
      ),
    );
    // Where resident memory sits: the JavaScript heap, or outside it.
    r.add(
      new Sampled(
        "deno_heap_used_bytes",
        "JavaScript heap in use, in bytes.",
        "gauge",
        () => Deno.memoryUsage().heapUsed,
      ),
    );
    r.add(
      new Sampled(
        "deno_heap_total_bytes",
        "JavaScript heap reserved, in bytes.",
        "gauge",
        () => Deno.memoryUsage().heapTotal,
      ),
    );
  }

  /** Adds the gauge of presence members this node holds, read from `presence` at scrape time. */
  observePresence(presence: { readonly localMembers: number }): void {
    this.registry.add(
      new Sampled(
        "broadcaster_presence_members",
        "Presence members (subscriptions) held by this node.",
        "gauge",
        () => presence.localMembers,
      ),
    );
  }

  /** Adds the gauge of webhook events waiting, read from `webhooks` at scrape time. */
  observeWebhooks(webhooks: { readonly queued: number }): void {
    this.registry.add(
      new Sampled(
        "broadcaster_webhook_queue",
        "Webhook events waiting to be sent.",
        "gauge",
        () => webhooks.queued,
      ),
    );
  }
}
