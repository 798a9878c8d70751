/**
 * The client's requests, one function per method, with their checks in the
 * order SPEC §3 lists them, so clients see the same error the original would
 * have sent, except where the spec notes a fix.
 *
 * @module
 */

import { CATCH_UP_BATCH } from "./outbound.ts";
import { parsePosition } from "./position.ts";
import {
  allows,
  type Authentication,
  authenticationFromClaims,
} from "./authentication.ts";
import type { Member } from "./presence.ts";
import { isChannel, isPattern, isPersonalChannel } from "./channel.ts";
import type { Effect, TokenOutcome } from "./effects.ts";
import { fail, type Result } from "./errors.ts";
import { notificationFrame, resultFrame } from "./frames.ts";
import { historyLimit } from "./history.ts";
import { invalidChannel, newMessageFrom, quote } from "./publication.ts";
import { type ConnectionStep, refuse, unchanged } from "./replies.ts";
import {
  AuthParams,
  decodeParams,
  HistoryParams,
  type ParamsSchema,
  PresenceParams,
  SubscribeParams,
  TriggerParams,
  UnsubscribeParams,
} from "./schema.ts";
import type { ConnectionState, Subscription } from "./state.ts";
import { lifetime } from "./token_lifetime.ts";

/** `auth`: params are checked here; the token itself by the shell's verifier. */
export function auth(
  state: ConnectionState,
  requestId: number | undefined,
  params: unknown,
): ConnectionStep {
  const decoded = decodeParams(AuthParams, params);
  if (!decoded.ok) return refuse(state, requestId, decoded.error);
  return {
    state,
    effects: [{ kind: "verifyToken", token: decoded.value.token, requestId }],
  };
}

/**
 * The rest of `auth`, once the token is verified: claims, then subject. The
 * same subject again refreshes the credentials and ends the subscriptions the
 * new token no longer allows.
 */
export function onTokenVerified(
  state: ConnectionState,
  requestId: number | undefined,
  outcome: TokenOutcome,
  now: number,
): ConnectionStep {
  if (!outcome.ok) {
    return refuse(state, requestId, {
      code: "Unauthenticated",
      message: outcome.reason,
    });
  }
  const granted = authenticationFromClaims(outcome.claims);
  if (!granted.ok) return refuse(state, requestId, granted.error);
  const next = granted.value;
  if (state.auth !== null && state.auth.subject !== next.subject) {
    return refuse(state, requestId, {
      code: "FailedPrecondition",
      message: "already authenticated as another subject",
    });
  }
  const kept = new Map<string, Subscription>();
  const effects: Effect[] = [];
  for (const subscription of state.subscriptions.values()) {
    if (allows(next, "subscribe", subscription.channel)) {
      kept.set(subscription.channel, subscription);
    } else {
      effects.push(
        { kind: "unsubscribe", subscription },
        {
          kind: "reply",
          frame: notificationFrame("unsubscribed", {
            channel: subscription.channel,
            reason: "PermissionDenied",
          }),
        },
      );
    }
  }
  effects.push(...lifetime(next, now));
  if (requestId !== undefined) {
    effects.push({
      kind: "reply",
      frame: resultFrame(requestId, { success: true }),
    });
  }
  return { state: { ...state, auth: next, subscriptions: kept }, effects };
}

/** `subscribe`: the subscription exists from here on; the shell registers it. */
export function subscribe(
  state: ConnectionState,
  requestId: number | undefined,
  params: unknown,
): ConnectionStep {
  const decoded = decodeParams(SubscribeParams, params);
  if (!decoded.ok) return refuse(state, requestId, decoded.error);
  const { channel, since, joinLeave, occupancy } = decoded.value;
  const pattern = isPattern(channel);
  if (pattern && since !== undefined) {
    return refuse(state, requestId, {
      code: "InvalidArgument",
      message: "params.since: a pattern has no history to recover from",
    });
  }
  if (pattern && (joinLeave === true || occupancy === true)) {
    return refuse(state, requestId, {
      code: "InvalidArgument",
      message:
        "a pattern has no presence: joinLeave and occupancy need a channel",
    });
  }
  const permitted = permit(state.auth, "subscribe", channel, true);
  if (!permitted.ok) return refuse(state, requestId, permitted.error);
  const auth = permitted.value;
  const policy = state.limits.namespaces.policyOf(channel);
  if (joinLeave === true && !policy.joinLeave) {
    return refuse(state, requestId, {
      code: "PermissionDenied",
      message: `join and leave are off for ${quote(channel)}`,
    });
  }
  if (state.subscriptions.has(channel)) {
    return refuse(state, requestId, {
      code: "AlreadyExists",
      message: `already subscribed to ${quote(channel)}`,
    });
  }
  if (state.subscriptions.size >= state.limits.maxSubscriptions) {
    return refuse(state, requestId, {
      code: "ResourceExhausted",
      message:
        `too many subscriptions: the limit is ${state.limits.maxSubscriptions} per connection`,
    });
  }
  const opened = state.subscriptionsOpened + 1;
  const subscription: Subscription = pattern
    ? { id: `${state.connectionId}.${opened}`, channel, pattern }
    : {
      id: `${state.connectionId}.${opened}`,
      channel,
      ...(joinLeave === true ? { joinLeave } : {}),
      ...(occupancy === true ? { occupancy } : {}),
      ...(policy.presence
        ? { member: memberOf(auth, state.connectionId) }
        : {}),
    };
  const subscriptions = new Map(state.subscriptions);
  subscriptions.set(channel, subscription);
  return {
    state: { ...state, subscriptions, subscriptionsOpened: opened },
    effects: [{
      kind: "subscribe",
      subscription,
      requestId,
      recover: since !== undefined,
      since: since === undefined ? null : parsePosition(since),
      limit: CATCH_UP_BATCH,
      maxSubscribers: policy.maxSubscribers,
    }],
  };
}

/** A subscription's presence membership: who holds it, on which connection. */
export function memberOf(auth: Authentication, connectionId: string): Member {
  return auth.info === undefined
    ? { user: auth.subject, connectionId }
    : { user: auth.subject, connectionId, info: auth.info };
}

/**
 * `presence` (`stats: false`) and `presenceStats` (`stats: true`): allowed
 * to whoever may subscribe to the channel, checked in the same order.
 */
export function presence(
  state: ConnectionState,
  requestId: number | undefined,
  params: unknown,
  stats: boolean,
): ConnectionStep {
  return channelRead(
    state,
    requestId,
    PresenceParams,
    params,
    ({ channel }, answered) => ({
      kind: "presence",
      channel,
      requestId: answered,
      stats,
      max: state.limits.presenceMaxMembers,
    }),
  );
}

/** `history`: checked as `subscribe` is, up to the channel itself. */
export function history(
  state: ConnectionState,
  requestId: number | undefined,
  params: unknown,
): ConnectionStep {
  return channelRead(
    state,
    requestId,
    HistoryParams,
    params,
    ({ channel, limit }, answered) => ({
      kind: "history",
      channel,
      limit: historyLimit(
        limit,
        state.limits.namespaces.policyOf(channel).historySize,
      ),
      requestId: answered,
    }),
  );
}

/**
 * A read of a channel (`history`, `presence`): its params, then the checks
 * of `subscribe` up to the channel itself, then `read`'s effect. A
 * notification asks for an answer nobody will read: nothing is done.
 */
function channelRead<P extends { channel: string }>(
  state: ConnectionState,
  requestId: number | undefined,
  schema: ParamsSchema<P>,
  params: unknown,
  read: (params: P, requestId: number) => Effect,
): ConnectionStep {
  const decoded = decodeParams(schema, params);
  if (!decoded.ok) return refuse(state, requestId, decoded.error);
  const permitted = permit(state.auth, "subscribe", decoded.value.channel);
  if (!permitted.ok) return refuse(state, requestId, permitted.error);
  if (requestId === undefined) return unchanged(state);
  return { state, effects: [read(decoded.value, requestId)] };
}

/** `unsubscribe`: the subscription ends here; the shell removes it from the hub. */
export function unsubscribe(
  state: ConnectionState,
  requestId: number | undefined,
  params: unknown,
): ConnectionStep {
  const decoded = decodeParams(UnsubscribeParams, params);
  if (!decoded.ok) return refuse(state, requestId, decoded.error);
  const { channel } = decoded.value;
  if (!isChannel(channel) && !isPattern(channel)) {
    return refuse(state, requestId, invalidChannel(channel));
  }
  const subscription = state.subscriptions.get(channel);
  if (subscription === undefined) {
    return refuse(state, requestId, {
      code: "NotFound",
      message: `not subscribed to ${quote(channel)}`,
    });
  }
  const subscriptions = new Map(state.subscriptions);
  subscriptions.delete(channel);
  const effects: Effect[] = [{ kind: "unsubscribe", subscription }];
  if (requestId !== undefined) {
    effects.push({
      kind: "reply",
      frame: resultFrame(requestId, { success: true }),
    });
  }
  return { state: { ...state, subscriptions }, effects };
}

/** `publish`: validated and authorised here; the shell hands it to the engine. */
export function publish(
  state: ConnectionState,
  requestId: number | undefined,
  params: unknown,
): ConnectionStep {
  const message = newMessageFrom(params, state.limits.maxMessageBytes);
  if (!message.ok) return refuse(state, requestId, message.error);
  // The channel name is checked already, with the message.
  const { channel } = message.value;
  const permitted = authorize(state.auth, "publish", channel);
  if (!permitted.ok) return refuse(state, requestId, permitted.error);
  if (!state.limits.namespaces.policyOf(channel).clientPublish) {
    return refuse(state, requestId, {
      code: "PermissionDenied",
      message: `clients may not publish to ${
        quote(channel)
      }: its namespace says so`,
    });
  }
  // A direct message says who sent it (SPEC §9).
  const sent = isPersonalChannel(channel)
    ? { ...message.value, from: permitted.value.subject }
    : message.value;
  return {
    state,
    effects: [{ kind: "publish", message: sent, requestId }],
  };
}

/**
 * The checks every request on a channel makes after its params: the name
 * (a pattern only where `patterns` allows one: `subscribe`), authentication,
 * scope, then the channel itself.
 */
function permit(
  auth: Authentication | null,
  scope: "subscribe" | "publish",
  channel: string,
  patterns = false,
): Result<Authentication> {
  if (!isChannel(channel) && !(patterns && isPattern(channel))) {
    return { ok: false, error: invalidChannel(channel) };
  }
  return authorize(auth, scope, channel);
}

/** {@linkcode permit} for a channel name already known to be valid. */
function authorize(
  auth: Authentication | null,
  scope: "subscribe" | "publish",
  channel: string,
): Result<Authentication> {
  if (auth === null) {
    return fail("Unauthenticated", "not authenticated: send auth first");
  }
  // Publishing to a personal channel is a direct message: its own scope.
  const needed = scope === "publish" && isPersonalChannel(channel)
    ? "direct"
    : scope;
  if (!auth.scopes.has(needed)) {
    return fail("PermissionDenied", `the token lacks the ${needed} scope`);
  }
  if (!allows(auth, scope, channel)) {
    return fail(
      "PermissionDenied",
      `channel ${quote(channel)} is not authorized by the token`,
    );
  }
  return { ok: true, value: auth };
}

/**
 * `trigger {event, data?}` (SPEC §10): a request to the app's back-end.
 * Checked in the usual order, then `FailedPrecondition` when there is no
 * back-end to call.
 */
export function trigger(
  state: ConnectionState,
  requestId: number | undefined,
  params: unknown,
): ConnectionStep {
  const decoded = decodeParams(TriggerParams, params);
  if (!decoded.ok) return refuse(state, requestId, decoded.error);
  if (state.auth === null) {
    return refuse(state, requestId, {
      code: "Unauthenticated",
      message: "not authenticated: send auth first",
    });
  }
  if (!state.auth.scopes.has("trigger")) {
    return refuse(state, requestId, {
      code: "PermissionDenied",
      message: "the token lacks the trigger scope",
    });
  }
  if (state.limits.trigger !== true) {
    return refuse(state, requestId, {
      code: "FailedPrecondition",
      message: "there is no back-end to trigger: the app has no triggerUrl",
    });
  }
  const { event, data } = decoded.value;
  return {
    state,
    effects: [{
      kind: "trigger",
      event,
      dataJson: JSON.stringify(data),
      requestId,
    }],
  };
}
