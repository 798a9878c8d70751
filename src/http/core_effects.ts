/**
 * The asynchronous effects against the core (token verifier, hub, engine),
 * each carried out and resolved to the input that reports its outcome to the
 * reducer. Failures become data here (`failureOf`); their causes go to the
 * log, never to the client.
 *
 * @module
 */

import type { TokenVerifier } from "../auth/jwt.ts";
import { type Engine, failureOf } from "../engine/engine.ts";
import type { Hub, Recipient } from "../hub/hub.ts";
import { log } from "../log.ts";
import type { ServerMetrics } from "../metrics/server_metrics.ts";
import type { EffectOf, Input, TokenOutcome } from "../protocol/effects.ts";
import type { EngineOperation } from "../protocol/engine_failure.ts";
import type { Message } from "../protocol/message.ts";

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

/** `auth`'s token, verified (synchronously); a refusal is logged too (never the token). */
export function verifyToken(
  services: CoreServices,
  effect: EffectOf<"verifyToken">,
  connectionId: string,
): Input {
  const outcome = checkToken(services, effect.token);
  if (!outcome.ok) {
    logger.info("connection {connectionId} auth refused: {reason}", {
      connectionId,
      reason: outcome.reason,
    });
  }
  return { kind: "tokenVerified", requestId: effect.requestId, outcome };
}

/**
 * Registers with the hub first, holding live messages back; waits until the
 * engine delivers the channel here; with `since`, reads what came after it.
 * The reducer then answers and activates: nothing published after the
 * answer can be missed, nothing arrives before it, and with `since` nothing
 * is lost or repeated.
 */
export async function subscribe(
  services: CoreServices,
  effect: EffectOf<"subscribe">,
  recipient: Recipient & { readonly id: string },
): Promise<Input> {
  const { subscription, requestId, since } = effect;
  services.hub.add(subscription, recipient, { recovering: true });
  let replay: readonly Message[] | null = null;
  try {
    await services.engine.listen(subscription.channel);
    if (since !== undefined) {
      replay = await services.engine.since(subscription.channel, since);
    }
  } catch (error) {
    // Without history the client must reload its state: it is told `recovered: false`.
    logger.warning("connection {connectionId}: subscribe degraded: {error}", {
      connectionId: recipient.id,
      error: String(error),
    });
  }
  return { kind: "subscribed", subscription, requestId, since, replay };
}

/** Hands a message to the engine; counts it by transport once accepted. */
export async function publish(
  services: CoreServices,
  effect: EffectOf<"publish">,
  connectionId: string,
): Promise<Input> {
  const { requestId } = effect;
  try {
    const message = await services.engine.publish(effect.message);
    services.metrics.published.websocket.inc();
    return { kind: "published", requestId, message };
  } catch (error) {
    return engineFailed(connectionId, "publish", requestId, error);
  }
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
