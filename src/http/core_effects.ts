/**
 * The asynchronous effects against the core (token verifier, hub, engine),
 * each carried out and resolved to the input that reports its outcome to the
 * reducer. Failures become data here (`failureOf`); their causes go to the
 * log, never to the client.
 *
 * @module
 */

import type { TokenVerifier } from "../auth/jwt.ts";
import type { Admission } from "./admission.ts";
import { type Engine, failureOf } from "../engine/engine.ts";
import type { Hub, Recipient } from "../hub/hub.ts";
import { log } from "../log.ts";
import type { ServerMetrics } from "../metrics/server_metrics.ts";
import type { EffectOf, Input, TokenOutcome } from "../protocol/effects.ts";
import type { PresenceStore } from "../presence/presence.ts";
import type { TriggerClient } from "./trigger.ts";
import type { Webhooks } from "../webhooks/webhooks.ts";
import type { EngineOperation } from "../protocol/engine_failure.ts";
import type { StreamRead } from "../protocol/position.ts";

const logger = log("connection");

/** What the core effects run against. */
export interface CoreServices {
  /** Local fan-out. */
  readonly hub: Hub;
  /** Where messages are published, kept and read. */
  readonly engine: Engine;
  /** Checks the tokens of `auth`. */
  readonly verifier: TokenVerifier;
  /** Epoch milliseconds. */
  readonly clock: () => number;
  /** What the effects count. */
  readonly metrics: ServerMetrics;
  /** Who is subscribed where (SPEC §8). */
  readonly presence: PresenceStore;
  /** The back-end `trigger` calls; `null` without a `triggerUrl`. */
  readonly trigger: TriggerClient | null;
  /** The back-ends told what happens: here, of client publishes. */
  readonly webhooks: Webhooks;
  /** The caps on connections, and the counts behind them (SPEC §12). */
  readonly admission: Admission;
}

/**
 * Verifies a token now, counting a refusal by its reason: the one check for
 * `auth` and for `?token=` on the upgrade.
 */
export function checkToken(
  services: Pick<CoreServices, "verifier" | "clock" | "metrics">,
  token: string,
): TokenOutcome {
  const outcome = services.verifier.verify(token, services.clock());
  if (!outcome.ok) {
    services.metrics.authFailures.inc({ reason: outcome.reason });
  }
  return outcome;
}

/**
 * `auth`'s token, verified (synchronously); a refusal is logged too (never
 * the token). A token whose `sub` already has `MAX_CONNECTIONS_PER_USER`
 * sockets here (this one aside) is reported over the limit.
 */
export function verifyToken(
  services: CoreServices,
  effect: EffectOf<"verifyToken">,
  connection: { readonly id: string; readonly user: string | null },
): Input {
  const outcome = checkToken(services, effect.token);
  if (!outcome.ok) {
    logger.info("connection {connectionId} auth refused: {reason}", {
      connectionId: connection.id,
      reason: outcome.reason,
    });
    return { kind: "tokenVerified", requestId: effect.requestId, outcome };
  }
  const sub = outcome.claims.sub;
  if (typeof sub === "string" && overUserLimit(services, sub, connection)) {
    return {
      kind: "tokenVerified",
      requestId: effect.requestId,
      outcome,
      overUserLimit: true,
    };
  }
  return { kind: "tokenVerified", requestId: effect.requestId, outcome };
}

/**
 * Whether `connection` becoming one of `user`'s sockets would pass
 * `MAX_CONNECTIONS_PER_USER` (SPEC §12), counting this node's other sockets
 * of the user; a refusal is counted in the metrics.
 */
export function overUserLimit(
  services: CoreServices,
  user: string,
  connection: { readonly user: string | null },
): boolean {
  const others = services.admission.connectionsOf(user) -
    (connection.user === user ? 1 : 0);
  if (!services.admission.overUserLimit(user, others)) return false;
  services.admission.refusedAtAuth();
  return true;
}

/**
 * Registers with the hub first, holding live messages back; waits until the
 * engine delivers the channel here; then reads where the stream stands and,
 * with `since`, what came after it. The reducer then answers and activates:
 * nothing published after the position can be missed, nothing arrives
 * before the answer, and with `since` nothing is lost or repeated.
 */
export async function subscribe(
  services: CoreServices,
  effect: EffectOf<"subscribe">,
  recipient: Recipient & { readonly id: string },
): Promise<Input> {
  const { subscription, requestId, recover, since } = effect;
  if (await full(services, effect)) {
    return {
      kind: "channelFull",
      subscription,
      requestId,
      limit: effect.maxSubscribers,
    };
  }
  services.hub.add(subscription, recipient);
  try {
    const read = subscription.pattern === true
      ? await listenToPattern(services, subscription.channel)
      : await listenToChannel(services, effect);
    return {
      kind: "subscribed",
      subscription,
      requestId,
      recover,
      since,
      read,
    };
  } catch (error) {
    logger.warning("connection {connectionId}: subscribe failed: {error}", {
      connectionId: recipient.id,
      error: String(error),
    });
    return {
      kind: "subscribeFailed",
      subscription,
      requestId,
      failure: failureOf(error),
    };
  }
}

/**
 * Whether the channel already has its namespace's `maxSubscribers` (SPEC
 * §10): counted cluster-wide by presence, or on this node when its
 * namespace has presence off. A count that cannot be read lets it through.
 */
async function full(
  services: CoreServices,
  { subscription, maxSubscribers }: EffectOf<"subscribe">,
): Promise<boolean> {
  if (maxSubscribers === 0 || subscription.pattern === true) return false;
  const local = services.hub.subscribersOf(subscription.channel);
  if (local >= maxSubscribers) return true;
  if (subscription.member === undefined) return false;
  try {
    const { connections } = await services.presence.counts(
      subscription.channel,
    );
    return connections >= maxSubscribers;
  } catch {
    return false;
  }
}

/** A pattern has no stream to read: listening is all (SPEC §9). */
async function listenToPattern(
  services: CoreServices,
  pattern: string,
): Promise<null> {
  await services.engine.listenPattern(pattern);
  return null;
}

/** Listens, reads the stream (and its latest kept messages, when asked), and joins presence. */
async function listenToChannel(
  services: CoreServices,
  { subscription, since, limit, latest }: EffectOf<"subscribe">,
): Promise<StreamRead> {
  await services.engine.listen(subscription.channel);
  const position = await services.engine.read(
    subscription.channel,
    since,
    limit,
  );
  const read = latest === true
    ? {
      ...position,
      latest: await services.engine.latest(subscription.channel),
    }
    : position;
  // Present before the answer: a `presence` right after it includes this one.
  if (subscription.member !== undefined) {
    await services.presence.add(subscription.channel, subscription.member);
  }
  return read;
}

/**
 * Reads what each lagging subscription missed, from where it lagged, and
 * hands it to the hub; one that cannot be read keeps lagging (the hub
 * reports it again, so it is retried).
 */
export async function catchUp(
  services: CoreServices,
  effect: EffectOf<"catchUp">,
  connectionId: string,
): Promise<undefined> {
  for (const subscription of effect.subscriptions) {
    const from = services.hub.catchUp(subscription);
    if (from === null) continue;
    let read: StreamRead | null = null;
    try {
      read = await services.engine.read(
        subscription.channel,
        from,
        effect.limit,
      );
    } catch (error) {
      logger.debug("connection {connectionId}: catching up failed: {error}", {
        connectionId,
        error: String(error),
      });
    }
    services.hub.resume(subscription, read);
  }
  return undefined;
}

/**
 * Ends a subscription here: the hub forgets it, and its presence membership
 * ends (a failure is logged; a cluster store expires it anyway).
 */
export function unsubscribe(
  services: CoreServices,
  effect: EffectOf<"unsubscribe">,
  connectionId: string,
): undefined {
  const { subscription } = effect;
  services.hub.remove(subscription);
  const { member } = subscription;
  if (member === undefined) return undefined;
  services.presence.remove(subscription.channel, member).catch((error) =>
    logger.warning(
      "connection {connectionId}: presence leave failed: {error}",
      {
        connectionId,
        error: String(error),
      },
    )
  );
  return undefined;
}

/** Reads a channel's presence, or only its counts. */
export async function presence(
  services: CoreServices,
  effect: EffectOf<"presence">,
  connectionId: string,
): Promise<Input> {
  const { requestId, channel, stats } = effect;
  try {
    const read = stats
      ? await services.presence.counts(channel)
      : await services.presence.snapshot(channel, effect.max);
    services.metrics.presenceQueries.inc({
      kind: stats ? "stats" : "presence",
      transport: "websocket",
    });
    return { kind: "presenceRead", requestId, presence: read };
  } catch (error) {
    return engineFailed(connectionId, "presence", requestId, error);
  }
}

/** Calls the back-end for a client's `trigger`; the outcome goes to the reducer. */
export async function trigger(
  services: CoreServices,
  effect: EffectOf<"trigger">,
  connectionId: string,
  user: string,
): Promise<Input> {
  const { requestId } = effect;
  if (services.trigger === null) {
    return { kind: "triggerFailed", requestId, reason: "no back-end" };
  }
  const started = performance.now();
  const outcome = await services.trigger.call({
    event: effect.event,
    dataJson: effect.dataJson,
    user,
    connectionId,
  }).catch((error): { ok: false; reason: string } => {
    logger.error("connection {connectionId}: trigger broke: {error}", {
      connectionId,
      error,
    });
    return { ok: false, reason: "internal error" };
  });
  services.metrics.triggerLatency.observe(
    (performance.now() - started) / 1000,
  );
  if (outcome.ok) {
    return {
      kind: "triggered",
      requestId,
      event: effect.event,
      responseJson: outcome.responseJson,
    };
  }
  logger.info("connection {connectionId}: trigger failed: {reason}", {
    connectionId,
    reason: outcome.reason,
  });
  return { kind: "triggerFailed", requestId, reason: outcome.reason };
}

/** Hands a message to the engine; counts it by transport once accepted. */
export async function publish(
  services: CoreServices,
  effect: EffectOf<"publish">,
  connectionId: string,
  user: string,
): Promise<Input> {
  const { requestId } = effect;
  try {
    const message = await services.engine.publish(effect.message);
    services.metrics.published.websocket.inc();
    const recipients = effect.audience === true
      ? await audience(services, message.channel)
      : undefined;
    // A back-end that asked for client_event hears of it (the payload parsed only then).
    if (services.webhooks.wants("client_event")) {
      services.webhooks.add({
        name: "client_event",
        channel: message.channel,
        user,
        event: message.event,
        payload: JSON.parse(message.payloadJson),
      });
    }
    return recipients === undefined
      ? { kind: "published", requestId, message }
      : { kind: "published", requestId, message, recipients };
  } catch (error) {
    return engineFailed(connectionId, "publish", requestId, error);
  }
}

/**
 * The connections subscribed to `channel`: cluster-wide from presence (this
 * node's own count where presence is off or cannot be read), plus this
 * node's pattern subscriptions that match it.
 */
async function audience(
  services: CoreServices,
  channel: string,
): Promise<number> {
  const local = services.hub.subscribersOf(channel);
  const cluster = await services.presence.counts(channel).then(
    (counts) => counts.connections,
    () => 0,
  );
  return Math.max(local, cluster) + services.hub.patternSubscribersOf(channel);
}

/** Reads a channel's recent messages. */
export async function history(
  services: CoreServices,
  effect: EffectOf<"history">,
  connectionId: string,
): Promise<Input> {
  const { requestId } = effect;
  try {
    const messages = await services.engine.history(
      effect.channel,
      effect.limit,
    );
    return { kind: "historyRead", requestId, messages };
  } catch (error) {
    return engineFailed(connectionId, "history", requestId, error);
  }
}

/** The engine failed `operation`: the cause goes to the log, its class to the reducer. */
function engineFailed(
  connectionId: string,
  operation: EngineOperation,
  requestId: number | undefined,
  error: unknown,
): Input {
  logger.warning("connection {connectionId}: {operation} failed: {error}", {
    connectionId,
    operation,
    error: String(error),
  });
  return {
    kind: "engineFailed",
    operation,
    requestId,
    failure: failureOf(error),
  };
}
