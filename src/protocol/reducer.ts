/**
 * The protocol core: every decision about one connection, as a pure function.
 *
 * `reduce(state, input, now)` returns the next state and the effects the shell
 * must run. It performs no I/O, reads no clock and draws no random numbers;
 * it never throws for any input (the property tests hold it to that). Checks
 * run in the order SPEC §3 lists them, so clients see the same error the
 * original would have sent, except where the spec notes a fix.
 *
 * @module
 */

import {
  allows,
  type Authentication,
  authenticationFromClaims,
  EXPIRY_WARNING_MS,
  LEEWAY_SECONDS,
} from "./authentication.ts";
import { isValidChannelName } from "./channel.ts";
import { CloseCode } from "./close_codes.ts";
import type {
  Effect,
  Input,
  Step,
  TimerName,
  TokenOutcome,
} from "./effects.ts";
import type { ProtocolError, Result } from "./errors.ts";
import { fail } from "./errors.ts";
import { errorFrame, notificationFrame, resultFrame } from "./frames.ts";
import { formatTimestamp } from "./message.ts";
import { invalidChannel, newMessageFrom, quote } from "./publication.ts";
import { admit } from "./rate_limit.ts";
import {
  AuthParams,
  decodeFrame,
  decodeParams,
  HistoryParams,
  SubscribeParams,
  UnsubscribeParams,
} from "./schema.ts";
import type { ConnectionState, Subscription } from "./state.ts";

type ConnectionStep = Step<ConnectionState>;

/**
 * Decides what one input does to a connection.
 *
 * @example
 * ```ts
 * const { state, effects } = reduce(
 *   initialState({ connectionId: "c1", limits: { maxSubscriptions: 128, maxPayloadBytes: 65536 } }),
 *   { kind: "frame", text: '{"id":1,"method":"heartbeat"}' },
 *   Date.now(),
 * );
 * ```
 */
export function reduce(
  state: ConnectionState,
  input: Input,
  now: number,
): ConnectionStep {
  switch (input.kind) {
    case "opened":
      return {
        state,
        effects: state.auth === null ? [] : lifetime(state.auth, now),
      };
    case "frame":
      return onFrame(state, input.text, now);
    case "tokenVerified":
      return onTokenVerified(state, input.requestId, input.outcome, now);
    case "timer":
      return onTimer(state, input.name, now);
  }
}

function onFrame(
  previous: ConnectionState,
  text: string,
  now: number,
): ConnectionStep {
  const decoded = decodeFrame(text);
  // Every frame spends from the budget, malformed ones included.
  const { state: rate, admission } = admit(
    previous.rate,
    previous.limits.rateLimit,
    now,
  );
  const state = { ...previous, rate };
  if (admission !== "admit") {
    const refusal = refuse(
      state,
      decoded.ok ? decoded.request.requestId : decoded.requestId,
      {
        code: "ResourceExhausted",
        message:
          `rate limit exceeded: at most ${state.limits.rateLimit} requests per second`,
      },
    );
    const counted: Effect[] = [
      { kind: "count", counter: "rateLimited" },
      ...refusal.effects,
    ];
    if (admission === "refuse") return { state, effects: counted };
    return {
      state,
      effects: [...counted, {
        kind: "close",
        code: CloseCode.PolicyViolation,
        reason: "rate limit abuse",
      }],
    };
  }
  if (!decoded.ok) {
    return refuse(state, decoded.requestId, {
      code: "InvalidArgument",
      message: decoded.message,
    });
  }
  const { requestId, method, params } = decoded.request;
  switch (method) {
    case "auth":
      return auth(state, requestId, params);
    case "subscribe":
      return subscribe(state, requestId, params, now);
    case "unsubscribe":
      return unsubscribe(state, requestId, params);
    case "publish":
      return publish(state, requestId, params);
    case "history":
      return history(state, requestId, params);
    case "heartbeat":
      return respond(state, requestId, { timestamp: formatTimestamp(now) });
    default:
      return refuse(state, requestId, {
        code: "NotFound",
        message: `method not found: ${quote(method)}`,
      });
  }
}

/** `auth`: params are checked here; the token itself by the shell's verifier. */
function auth(
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
function onTokenVerified(
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

/**
 * The token lifetime of fresh credentials: timers that replace earlier ones,
 * and the `tokenExpiring` warning at once if `exp` is already that near.
 */
function lifetime(auth: Authentication, now: number): Effect[] {
  const expired: Effect = {
    kind: "timer",
    name: "tokenExpired",
    at: expiredAt(auth),
  };
  if (now < warnAt(auth)) {
    return [
      { kind: "timer", name: "tokenExpiring", at: warnAt(auth) },
      expired,
    ];
  }
  // Warned now: the earlier credentials' warning timer, if any, must not fire again.
  return [expiringNotice(auth), {
    kind: "timer",
    name: "tokenExpiring",
    at: Number.POSITIVE_INFINITY,
  }, expired];
}

/** When `tokenExpiring` is due: 60 s before `exp`. */
function warnAt(auth: Authentication): number {
  return auth.expiresAt - EXPIRY_WARNING_MS;
}

/** When the connection closes with 4001: `exp` plus the leeway. */
function expiredAt(auth: Authentication): number {
  return auth.expiresAt + LEEWAY_SECONDS * 1000;
}

function expiringNotice(auth: Authentication): Effect {
  return {
    kind: "reply",
    frame: notificationFrame("tokenExpiring", {
      expiresAt: formatTimestamp(auth.expiresAt),
    }),
  };
}

/**
 * Token lifetime: warn once `exp` is near, close with 4001 once it is past
 * (plus leeway). A timer of replaced credentials finds nothing to do.
 */
function onTimer(
  state: ConnectionState,
  name: TimerName,
  now: number,
): ConnectionStep {
  const auth = state.auth;
  if (auth === null) return { state, effects: [] };
  if (name === "tokenExpired" && now >= expiredAt(auth)) {
    return {
      state: { ...state, auth: null },
      effects: [{
        kind: "close",
        code: CloseCode.TokenExpired,
        reason: "token expired",
      }],
    };
  }
  if (
    name === "tokenExpiring" && now >= warnAt(auth) && now < expiredAt(auth)
  ) {
    return { state, effects: [expiringNotice(auth)] };
  }
  return { state, effects: [] };
}

function subscribe(
  state: ConnectionState,
  requestId: number | undefined,
  params: unknown,
  now: number,
): ConnectionStep {
  const decoded = decodeParams(SubscribeParams, params);
  if (!decoded.ok) return refuse(state, requestId, decoded.error);
  const { channel, since } = decoded.value;
  const permitted = permit(state.auth, "subscribe", channel);
  if (!permitted.ok) return refuse(state, requestId, permitted.error);
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
  const subscription: Subscription = {
    id: `${state.connectionId}.${opened}`,
    channel,
  };
  const subscriptions = new Map(state.subscriptions);
  subscriptions.set(channel, subscription);
  return {
    state: { ...state, subscriptions, subscriptionsOpened: opened },
    effects: [{
      kind: "subscribe",
      subscription,
      requestId,
      timestamp: formatTimestamp(now),
      ...(since === undefined ? {} : { since }),
    }],
  };
}

/** `history`: checked as `subscribe` is, up to the channel itself. */
function history(
  state: ConnectionState,
  requestId: number | undefined,
  params: unknown,
): ConnectionStep {
  const decoded = decodeParams(HistoryParams, params);
  if (!decoded.ok) return refuse(state, requestId, decoded.error);
  const { channel, limit } = decoded.value;
  const permitted = permit(state.auth, "subscribe", channel);
  if (!permitted.ok) return refuse(state, requestId, permitted.error);
  // A notification asks for an answer nobody will read.
  if (requestId === undefined) return { state, effects: [] };
  const most = state.limits.historySize;
  return {
    state,
    effects: [{
      kind: "history",
      channel,
      limit: Math.min(limit ?? most, most),
      requestId,
    }],
  };
}

function unsubscribe(
  state: ConnectionState,
  requestId: number | undefined,
  params: unknown,
): ConnectionStep {
  const decoded = decodeParams(UnsubscribeParams, params);
  if (!decoded.ok) return refuse(state, requestId, decoded.error);
  const { channel } = decoded.value;
  if (!isValidChannelName(channel)) {
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

function publish(
  state: ConnectionState,
  requestId: number | undefined,
  params: unknown,
): ConnectionStep {
  const message = newMessageFrom(params, state.limits.maxPayloadBytes);
  if (!message.ok) return refuse(state, requestId, message.error);
  const permitted = permit(state.auth, "publish", message.value.channel);
  if (!permitted.ok) return refuse(state, requestId, permitted.error);
  return {
    state,
    effects: [{ kind: "publish", message: message.value, requestId }],
  };
}

/**
 * The checks `subscribe` and `publish` share after their params: channel name,
 * authentication, scope, then the channel itself.
 */
function permit(
  auth: Authentication | null,
  scope: "subscribe" | "publish",
  channel: string,
): Result<Authentication> {
  if (!isValidChannelName(channel)) {
    return { ok: false, error: invalidChannel(channel) };
  }
  if (auth === null) {
    return fail("Unauthenticated", "not authenticated: send auth first");
  }
  if (!auth.scopes.has(scope)) {
    return fail("PermissionDenied", `the token lacks the ${scope} scope`);
  }
  if (!allows(auth, scope, channel)) {
    return fail(
      "PermissionDenied",
      `channel ${quote(channel)} is not authorized by the token`,
    );
  }
  return { ok: true, value: auth };
}

/** Answers a request with a result; a notification gets no success response. */
function respond(
  state: ConnectionState,
  requestId: number | undefined,
  result: Readonly<Record<string, unknown>>,
): ConnectionStep {
  return {
    state,
    effects: requestId === undefined
      ? []
      : [{ kind: "reply", frame: resultFrame(requestId, result) }],
  };
}

/** Answers with an error, state unchanged; notifications get errors too. */
function refuse(
  state: ConnectionState,
  requestId: number | undefined,
  error: ProtocolError,
): ConnectionStep {
  return {
    state,
    effects: [{ kind: "reply", frame: errorFrame(requestId, error) }],
  };
}
