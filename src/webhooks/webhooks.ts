/**
 * Webhooks (SPEC §10): what happened, POSTed to the app's back-ends.
 *
 * Each endpoint has its own bounded queue and sends one batch at a time
 * (so events reach it in the order they happened), at most 100 ms after the
 * first event of the batch. A failed batch (network, timeout, non-2xx) is
 * sent again with exponential backoff until 5 minutes after its first try,
 * then dropped and counted. A full queue drops the new event, counts and
 * logs it: delivery to clients is never slowed by a back-end.
 *
 * @module
 */

import { log } from "../log.ts";
import { postSigned, Signer } from "../http/signature.ts";

const logger = log("webhooks");

/** The events a webhook may ask for. */
export const WEBHOOK_EVENTS = [
  "channel_occupied",
  "channel_vacated",
  "member_added",
  "member_removed",
  "client_event",
  "report_issue",
] as const;

/** One of {@linkcode WEBHOOK_EVENTS}. */
export type WebhookEventName = typeof WEBHOOK_EVENTS[number];

/** One event, as it appears in a POST's `events`. */
export interface WebhookEvent {
  /** What happened. */
  readonly name: WebhookEventName;
  /** The channel, when it concerns one. */
  readonly channel?: string;
  /** The user, when it concerns one. */
  readonly user?: string;
  /** The client's event name (`client_event`). */
  readonly event?: string;
  /** The client's payload (`client_event`), any JSON value. */
  readonly payload?: unknown;
}

/** One back-end, as `CONFIG_FILE` names it. */
export interface WebhookConfig {
  /** Where the events are POSTed. */
  readonly url: string;
  /** The HMAC-SHA256 key of `X-Broadcaster-Signature`. */
  readonly secret: string;
  /** The events it wants. */
  readonly events: readonly WebhookEventName[];
}

/** What webhooks count (the server's metrics). */
export interface WebhookCounters {
  /** Batches delivered (2xx). */
  delivered(): void;
  /** Attempts that failed (each retry's failure included). */
  failed(): void;
  /** Attempts after a failure. */
  retried(): void;
  /** Events dropped: the queue was full, or a batch gave up after 5 minutes. */
  dropped(amount: number): void;
}

/** Tuning, for tests that say why; the defaults are SPEC §10's. */
export interface WebhookTiming {
  /** Most time between an event and its batch's POST (100 ms). */
  readonly batchMs: number;
  /** First retry delay; doubles per failure (1 s), capped at 60 s. */
  readonly retryMs: number;
  /** How long a batch is retried (5 minutes). */
  readonly giveUpMs: number;
}

const DEFAULT_TIMING: WebhookTiming = {
  batchMs: 100,
  retryMs: 1_000,
  giveUpMs: 5 * 60_000,
};

/** Events one endpoint queues at most. */
const QUEUE_LIMIT = 10_000;

/** Events one POST carries at most. */
const BATCH_LIMIT = 100;

/** How long one POST may take. */
const POST_TIMEOUT_MS = 5_000;

/** One back-end's queue and sender. */
class Endpoint {
  readonly #config: WebhookConfig;
  readonly #signer: Signer;
  readonly #counters: WebhookCounters;
  readonly #timing: WebhookTiming;
  readonly #wanted: ReadonlySet<string>;
  readonly #queue: WebhookEvent[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #sending = false;
  #closed = false;

  constructor(
    config: WebhookConfig,
    counters: WebhookCounters,
    timing: WebhookTiming,
  ) {
    this.#config = config;
    this.#signer = new Signer(config.secret);
    this.#counters = counters;
    this.#timing = timing;
    this.#wanted = new Set(config.events);
  }

  get queued(): number {
    return this.#queue.length;
  }

  add(event: WebhookEvent): void {
    if (this.#closed || !this.#wanted.has(event.name)) return;
    if (this.#queue.length >= QUEUE_LIMIT) {
      this.#counters.dropped(1);
      logger.warning("webhook {url}: queue full, {name} dropped", {
        url: this.#config.url,
        name: event.name,
      });
      return;
    }
    this.#queue.push(event);
    if (!this.#sending) {
      this.#timer ??= setTimeout(() => this.#send(), this.#timing.batchMs);
    }
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  /** Sends batches until the queue is empty, one at a time, in order. */
  async #send(): Promise<void> {
    this.#timer = undefined;
    this.#sending = true;
    try {
      while (!this.#closed && this.#queue.length > 0) {
        const batch = this.#queue.splice(0, BATCH_LIMIT);
        await this.#deliver(batch);
      }
    } finally {
      this.#sending = false;
    }
  }

  async #deliver(batch: readonly WebhookEvent[]): Promise<void> {
    const body = JSON.stringify({ timeMs: Date.now(), events: batch });
    const signature = await this.#signer.sign(body);
    const started = Date.now();
    for (let attempt = 0;; attempt++) {
      if (this.#closed) return;
      if (attempt > 0) this.#counters.retried();
      const status = await this.#post(body, signature);
      if (status >= 200 && status < 300) {
        this.#counters.delivered();
        return;
      }
      this.#counters.failed();
      const delay = Math.min(60_000, this.#timing.retryMs * 2 ** attempt);
      if (Date.now() + delay - started > this.#timing.giveUpMs) {
        this.#counters.dropped(batch.length);
        logger.warning(
          "webhook {url}: gave up on {count} events after {attempts} attempts",
          { url: this.#config.url, count: batch.length, attempts: attempt + 1 },
        );
        return;
      }
      logger.info("webhook {url} answered {status}: retry in {delay} ms", {
        url: this.#config.url,
        status,
        delay,
      });
      await new Promise((resolve) => {
        this.#timer = setTimeout(resolve, delay);
      });
    }
  }

  /** The POST's status, or 0 when there was no answer. */
  async #post(body: string, signature: string): Promise<number> {
    try {
      const response = await postSigned(
        this.#config.url,
        body,
        signature,
        POST_TIMEOUT_MS,
      );
      await response.body?.cancel();
      return response.status;
    } catch {
      return 0;
    }
  }
}

/**
 * The app's webhooks: hand it events, it delivers them.
 *
 * @example
 * ```ts
 * import { Webhooks } from "./webhooks.ts";
 *
 * const webhooks = new Webhooks([], {
 *   delivered: () => {}, failed: () => {}, retried: () => {}, dropped: () => {},
 * });
 * webhooks.add({ name: "channel_occupied", channel: "room1" });
 * webhooks.close();
 * ```
 */
export class Webhooks {
  readonly #endpoints: readonly Endpoint[];
  readonly #wanted: ReadonlySet<string>;

  /** Endpoints of `configs`, counted by `counters`. */
  constructor(
    configs: readonly WebhookConfig[],
    counters: WebhookCounters,
    timing: Partial<WebhookTiming> = {},
  ) {
    const resolved = { ...DEFAULT_TIMING, ...timing };
    this.#endpoints = configs.map((config) =>
      new Endpoint(config, counters, resolved)
    );
    this.#wanted = new Set(configs.flatMap((config) => config.events));
  }

  /** Whether an endpoint wants `name`: without one, its events are not even built. */
  wants(name: WebhookEventName): boolean {
    return this.#wanted.has(name);
  }

  /** Events waiting, across endpoints (a gauge). */
  get queued(): number {
    return this.#endpoints.reduce((sum, endpoint) => sum + endpoint.queued, 0);
  }

  /** Queues `event` for every endpoint that wants it; never waits. */
  add(event: WebhookEvent): void {
    for (const endpoint of this.#endpoints) endpoint.add(event);
  }

  /** Stops sending; what is queued is not sent. */
  close(): void {
    for (const endpoint of this.#endpoints) endpoint.close();
  }
}
