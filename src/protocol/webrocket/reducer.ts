/**
 * The WebRocket protocol (SPEC §11, document `004`) as a pure reducer over
 * the core: an app's users authenticate by name and secret, READ lets them
 * subscribe, WRITE lets them broadcast and trigger. Every frame is one
 * `{"event-name": data}`; what is not gets `{"err": "INVALID_PAYLOAD"}` and
 * the connection stays.
 *
 * @module
 */

import { sameKey } from "../../auth/api_key.ts";
import type { AppUser } from "../../config_file.ts";
import type { Authentication, Scope } from "../authentication.ts";
import { isValidChannelName } from "../channel.ts";
import { onOversizedFrame } from "../closed.ts";
import { endFailedSubscription } from "../failed_subscription.ts";
import { CloseCode } from "../close_codes.ts";
import type { Effect, Input, Step } from "../effects.ts";
import { onBacklog, onLagging } from "../outbound.ts";
import { admitted as admittedFrame } from "../rate_limit.ts";
import { reply, send, unchanged } from "../replies.ts";
import { isRecord } from "../schema.ts";
import { memberOf } from "../requests.ts";
import { utf8ByteLength } from "../size.ts";
import type { Subscription } from "../state.ts";
import { answer, onClosedTracking, track } from "../pending.ts";
import { liveStart } from "../position.ts";
import { authDeadline, onTimer } from "../timers.ts";
import type { WebRocketEffect, WebRocketInput } from "./effects.ts";
import {
  ANSWER_EVENTS,
  answerFrame,
  errFrame,
  type ErrorId,
} from "./frames.ts";
import type { WebRocketState } from "./state.ts";

/** One step of a WebRocket connection. */
export type WebRocketStep = Step<WebRocketState, WebRocketEffect>;

/** The longest user name, and event name, taken. */
const MAX_NAME_LENGTH = 128;

function fail(
  state: WebRocketState,
  id: ErrorId,
  info: string,
): WebRocketStep {
  return reply(state, errFrame(id, info));
}

/**
 * Decides what one input does to a WebRocket connection.
 *
 * @example
 * ```ts
 * import { DEFAULT_CHANNEL_POLICY, Namespaces } from "../namespaces.ts";
 * import { reduce } from "./reducer.ts";
 * import { webRocketState } from "./state.ts";
 *
 * const state = webRocketState("c1", {
 *   maxSubscriptions: 128,
 *   maxMessageBytes: 65536,
 *   rateLimit: 100,
 *   outboundBufferBytes: 1 << 20,
 *   presenceMaxMembers: 1000,
 *   namespaces: new Namespaces(DEFAULT_CHANNEL_POLICY),
 * }, new Map([["joe", { name: "joe", secret: "53cr37", permissions: ["READ"] }]]));
 * const { effects } = reduce(state, {
 *   kind: "frame",
 *   text: '{"authenticate":{"user":"joe","secret":"53cr37"}}',
 * }, 0);
 * // effects: [{ kind: "admitUser", user: "joe" }]: the shell answers
 * // userAdmitted, and then { kind: "send", text: '{"authenticated":"joe"}' }
 * ```
 */
export function reduce(
  state: WebRocketState,
  input: Input | WebRocketInput,
  now: number,
): WebRocketStep {
  if (state.closed) return unchanged(state);
  switch (input.kind) {
    case "opened":
      // Users authenticate in-band: in time, or the socket is closed 4008.
      return { state, effects: [authDeadline(state, now)] };
    case "frame":
      return admitted(state, now, (next) => onText(next, input.text));
    case "binaryFrame":
      return admitted(
        state,
        now,
        (next) =>
          fail(next, "INVALID_PAYLOAD", "frames are JSON text, not binary"),
      );
    case "oversizedFrame":
      return onOversizedFrame(state);
    case "timer":
      return onTimer(state, input.name, now);
    case "lagging":
      return onLagging(state, now);
    case "backlog":
      return onBacklog(state, input.bytes, now);
    case "subscribed":
      return onSubscribed(state, input.subscription, input.requestId, input);
    case "subscribeFailed":
      return onSubscribeFailed(
        state,
        input.subscription,
        input.requestId,
        errFrame(
          "INTERNAL_ERROR",
          input.failure === "unavailable"
            ? "the server cannot reach its engine, try again"
            : "internal error",
        ),
      );
    case "channelFull":
      return onSubscribeFailed(
        state,
        input.subscription,
        input.requestId,
        errFrame(
          "ACCESS_DENIED",
          `the channel has its ${input.limit} subscribers`,
        ),
      );
    case "published":
      return answer(
        state,
        input.requestId,
        (pending) =>
          pending.kind === "broadcast"
            ? answerFrame("broadcasted", pending.channel)
            : null,
      );
    case "userAdmitted":
      return onUserAdmitted(state, input.user, input.overUserLimit);
    case "channelNotFound":
      return answer(
        state,
        input.requestId,
        (pending) =>
          pending.kind === "broadcast"
            ? errFrame(
              "CHANNEL_NOT_FOUND",
              `channel ${
                JSON.stringify(pending.channel)
              } does not exist: subscribe to it first`,
            )
            : null,
      );
    case "engineFailed":
      return answer(state, input.requestId, () =>
        errFrame(
          "INTERNAL_ERROR",
          input.failure === "unavailable"
            ? "the server cannot reach its engine, try again"
            : "internal error",
        ));
    case "triggered":
      return answer(
        state,
        input.requestId,
        (pending) =>
          pending.kind === "trigger"
            ? answerFrame("triggered", pending.event)
            : null,
      );
    case "triggerFailed":
      return answer(state, input.requestId, () =>
        errFrame(
          "ASSIGNATION_FAILED",
          `no worker handled the request: ${input.reason}`,
        ));
    case "closed":
      return onClosedTracking(state);
    default:
      // Never asked for: this protocol authenticates in-band, reads no history or presence.
      return unchanged(state);
  }
}

/** Every frame spends from the rate budget; over it, `RATE_LIMITED`. */
function admitted(
  previous: WebRocketState,
  now: number,
  next: (state: WebRocketState) => WebRocketStep,
): WebRocketStep {
  return admittedFrame(previous, now, {
    refused: (state) =>
      send(errFrame(
        "RATE_LIMITED",
        `at most ${state.limits.rateLimit} messages per second`,
      )),
    next,
  });
}

/** A frame: exactly one `{"event-name": data}`. */
function onText(state: WebRocketState, text: string): WebRocketStep {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail(state, "INVALID_PAYLOAD", "malformed JSON");
  }
  if (!isRecord(value)) {
    return fail(state, "INVALID_PAYLOAD", 'a frame is one {"event": data}');
  }
  const names = Object.keys(value);
  const [event] = names;
  if (event === undefined || names.length !== 1) {
    return fail(
      state,
      "INVALID_PAYLOAD",
      "a frame holds exactly one event",
    );
  }
  const data = value[event];
  switch (event) {
    case "authenticate":
      return authenticate(state, data);
    case "subscribe":
      return subscribe(state, data);
    case "unsubscribe":
      return unsubscribe(state, data);
    case "broadcast":
      return broadcast(state, data);
    case "trigger":
      return trigger(state, data);
    case "logout":
      return logout(state, data);
    case "disconnect":
      return data === true
        ? {
          state,
          effects: [{
            kind: "close",
            code: CloseCode.Normal,
            reason: "disconnected",
          }],
        }
        : fail(state, "INVALID_PAYLOAD", "disconnect takes true");
    default:
      return fail(
        state,
        "INVALID_PAYLOAD",
        `unknown event ${JSON.stringify(event.slice(0, 64))}`,
      );
  }
}

/** A name a user or event may have: 1 to 128 characters, no control characters. */
function isName(value: unknown): value is string {
  if (typeof value !== "string" || value === "") return false;
  if (value.length > MAX_NAME_LENGTH) return false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return false;
  }
  return true;
}

/** What a user's permissions allow, as scopes: READ subscribes, WRITE publishes and triggers. */
function scopesOf(user: AppUser): ReadonlySet<Scope> {
  const scopes = new Set<Scope>();
  if (user.permissions.includes("READ")) scopes.add("subscribe");
  if (user.permissions.includes("WRITE")) {
    scopes.add("publish");
    scopes.add("trigger");
  }
  return scopes;
}

/**
 * `authenticate {user, secret?}`: the name, the user, then the secret
 * (constant time). Authenticating as someone else ends the subscriptions
 * the new user may not hold.
 */
function authenticate(state: WebRocketState, data: unknown): WebRocketStep {
  if (!isRecord(data)) {
    return fail(state, "INVALID_PAYLOAD", "authenticate takes {user, secret}");
  }
  const { user: name, secret } = data;
  if (!isName(name)) {
    return fail(
      state,
      "INVALID_USER_NAME",
      "user must be a name of 1 to 128 characters",
    );
  }
  if (secret !== undefined && typeof secret !== "string") {
    return fail(state, "INVALID_PAYLOAD", "secret must be a string");
  }
  const user = state.users.get(name);
  if (user === undefined) {
    return fail(state, "USER_NOT_FOUND", `no user ${JSON.stringify(name)}`);
  }
  if (!sameKey(secret ?? "", user.secret)) {
    return fail(
      state,
      "INVALID_CREDENTIALS",
      secret === undefined ? "a secret is required" : "the secret is wrong",
    );
  }
  // The credentials are right; whether the user has sockets to spare here
  // only the shell knows (SPEC §12): `userAdmitted` finishes the job.
  return { state, effects: [{ kind: "admitUser", user: name }] };
}

/**
 * The answer to `admitUser`: over `MAX_CONNECTIONS_PER_USER`, `ACCESS_DENIED`
 * (the seed has no code for it) and close 1008, as `auth` over the cap in
 * the native protocol; else the session is the user's.
 */
function onUserAdmitted(
  state: WebRocketState,
  name: string,
  overUserLimit: boolean,
): WebRocketStep {
  const user = state.users.get(name);
  if (user === undefined) return unchanged(state);
  if (overUserLimit) {
    return {
      state,
      effects: [
        send(errFrame("ACCESS_DENIED", "too many connections for this user")),
        {
          kind: "close",
          code: CloseCode.PolicyViolation,
          reason: "too many connections for this user",
        },
      ],
    };
  }
  const auth: Authentication = {
    subject: user.name,
    channels: new Set(),
    grants: [],
    scopes: scopesOf(user),
    // Users do not expire: their session lasts as long as the connection.
    expiresAt: Number.POSITIVE_INFINITY,
  };
  const ended = auth.scopes.has("subscribe") && state.auth?.subject === name
    ? []
    : [...state.subscriptions.values()];
  const subscriptions = new Map(state.subscriptions);
  for (const subscription of ended) subscriptions.delete(subscription.channel);
  return {
    state: { ...state, auth, subscriptions },
    effects: [
      ...ended.map((subscription): Effect => ({
        kind: "unsubscribe",
        subscription,
      })),
      send(answerFrame("authenticated", user.name)),
    ],
  };
}

/** The channel of `data` (`{channel}`), or the error frame for it. */
function channelOf(
  data: unknown,
  event: string,
): { readonly ok: true; readonly channel: string } | {
  readonly ok: false;
  readonly error: string;
} {
  if (!isRecord(data)) {
    return {
      ok: false,
      error: errFrame("INVALID_PAYLOAD", `${event} takes {channel}`),
    };
  }
  const { channel } = data;
  if (typeof channel !== "string" || !isValidChannelName(channel)) {
    return {
      ok: false,
      error: errFrame(
        "INVALID_CHANNEL_NAME",
        "a channel is segments of letters, digits, _ and -, joined by :",
      ),
    };
  }
  return { ok: true, channel };
}

/** `ACCESS_DENIED`: nobody is authenticated, or the user lacks the right. */
function denied(state: WebRocketState, right: "read" | "write"): WebRocketStep {
  return fail(
    state,
    "ACCESS_DENIED",
    state.auth === null
      ? `not authenticated for ${right === "read" ? "reading" : "writing"}`
      : `user ${JSON.stringify(state.auth.subject)} may not ${right}: ${
        right === "read" ? "READ" : "WRITE"
      } is needed`,
  );
}

/** Whether the session is authenticated with `scope`. */
function may(state: WebRocketState, scope: Scope): boolean {
  return state.auth?.scopes.has(scope) ?? false;
}

/** `subscribe {channel}` (READ): the channel exists from then on. */
function subscribe(state: WebRocketState, data: unknown): WebRocketStep {
  const named = channelOf(data, "subscribe");
  if (!named.ok) return reply(state, named.error);
  const { channel } = named;
  if (!may(state, "subscribe") || state.auth === null) {
    return denied(state, "read");
  }
  if (state.subscriptions.has(channel)) {
    return reply(state, answerFrame("subscribed", channel));
  }
  if (state.subscriptions.size >= state.limits.maxSubscriptions) {
    return fail(
      state,
      "ACCESS_DENIED",
      `at most ${state.limits.maxSubscriptions} subscriptions per connection`,
    );
  }
  const policy = state.limits.namespaces.policyOf(channel);
  const opened = state.subscriptionsOpened + 1;
  const subscription: Subscription = {
    id: `${state.connectionId}.${opened}`,
    channel,
    ...(policy.presence
      ? { member: memberOf(state.auth, state.connectionId) }
      : {}),
  };
  const { state: numbered, requestId } = track(state, {
    kind: "subscribe",
    channel,
  });
  const subscriptions = new Map(numbered.subscriptions);
  subscriptions.set(channel, subscription);
  return {
    state: { ...numbered, subscriptions, subscriptionsOpened: opened },
    effects: [{
      kind: "subscribe",
      subscription,
      requestId,
      recover: false,
      since: null,
      limit: 1,
      maxSubscribers: policy.maxSubscribers,
    }],
  };
}

/** The subscription stands: it goes live, answered `subscribed`. */
function onSubscribed(
  state: WebRocketState,
  subscription: Subscription,
  requestId: number | undefined,
  input: Extract<Input, { kind: "subscribed" }>,
): WebRocketStep {
  if (state.subscriptions.get(subscription.channel) !== subscription) {
    const gone = answer(state, requestId, () => null);
    return {
      state: gone.state,
      effects: [{ kind: "unsubscribe", subscription }],
    };
  }
  const position = input.read?.position ?? { epoch: "", offset: 0 };
  const answered = answer(
    state,
    requestId,
    () => answerFrame("subscribed", subscription.channel),
  );
  return {
    state: answered.state,
    effects: [
      { kind: "activate", subscription, start: liveStart(position) },
      ...answered.effects,
    ],
  };
}

/** The subscription could not be had: it ends, and the client hears why. */
function onSubscribeFailed(
  state: WebRocketState,
  subscription: Subscription,
  requestId: number | undefined,
  error: string,
): WebRocketStep {
  return endFailedSubscription(
    state,
    subscription,
    (without) => answer(without, requestId, () => error),
  );
}

/** `unsubscribe {channel}` (READ): only a channel this session subscribed to. */
function unsubscribe(state: WebRocketState, data: unknown): WebRocketStep {
  const named = channelOf(data, "unsubscribe");
  if (!named.ok) return reply(state, named.error);
  const { channel } = named;
  if (!may(state, "subscribe")) {
    return denied(state, "read");
  }
  const subscription = state.subscriptions.get(channel);
  if (subscription === undefined) {
    return fail(
      state,
      "CHANNEL_NOT_FOUND",
      `not subscribed to ${JSON.stringify(channel)}`,
    );
  }
  const subscriptions = new Map(state.subscriptions);
  subscriptions.delete(channel);
  return {
    state: { ...state, subscriptions },
    effects: [
      { kind: "unsubscribe", subscription },
      send(answerFrame("unsubscribed", channel)),
    ],
  };
}

/** An event name for `broadcast` and `trigger`, or the error frame. */
function eventOf(data: Record<string, unknown>): string | null {
  const { event } = data;
  return isName(event) && !ANSWER_EVENTS.has(event) ? event : null;
}

/**
 * `broadcast {event, channel, data?}` (WRITE): published to a channel that
 * exists, every subscriber getting `{"<event>": {"channel", "data"}}`.
 */
function broadcast(state: WebRocketState, data: unknown): WebRocketStep {
  if (!isRecord(data)) {
    return fail(
      state,
      "INVALID_PAYLOAD",
      "broadcast takes {event, channel, data}",
    );
  }
  const event = eventOf(data);
  if (event === null) {
    return fail(
      state,
      "INVALID_EVENT_NAME",
      "event must be a name of 1 to 128 characters, not one of the answers",
    );
  }
  const named = channelOf(data, "broadcast");
  if (!named.ok) return reply(state, named.error);
  const { channel } = named;
  if (!may(state, "publish")) {
    return denied(state, "write");
  }
  const payloadJson = JSON.stringify(data.data ?? null);
  if (utf8ByteLength(payloadJson) > state.limits.maxMessageBytes) {
    return fail(
      state,
      "INVALID_PAYLOAD",
      `data over ${state.limits.maxMessageBytes} bytes`,
    );
  }
  const { state: numbered, requestId } = track(state, {
    kind: "broadcast",
    channel,
  });
  return {
    state: numbered,
    effects: [{
      kind: "broadcastToExisting",
      message: { channel, event, payloadJson, from: undefined },
      requestId,
    }],
  };
}

/** `trigger {event, data?}` (WRITE): a request to the app's back-end. */
function trigger(state: WebRocketState, data: unknown): WebRocketStep {
  if (!isRecord(data)) {
    return fail(state, "INVALID_PAYLOAD", "trigger takes {event, data}");
  }
  const event = eventOf(data);
  if (event === null) {
    return fail(
      state,
      "INVALID_EVENT_NAME",
      "event must be a name of 1 to 128 characters",
    );
  }
  if (!may(state, "trigger")) {
    return denied(state, "write");
  }
  if (state.limits.trigger !== true) {
    return fail(
      state,
      "ASSIGNATION_FAILED",
      "no worker: the app has no triggerUrl",
    );
  }
  const { state: numbered, requestId } = track(state, {
    kind: "trigger",
    event,
  });
  return {
    state: numbered,
    effects: [{
      kind: "trigger",
      event,
      dataJson: JSON.stringify(data.data ?? null),
      requestId,
    }],
  };
}

/** `logout: true`: the session ends, and every subscription with it. */
function logout(state: WebRocketState, data: unknown): WebRocketStep {
  if (data !== true) return fail(state, "INVALID_PAYLOAD", "logout takes true");
  if (state.auth === null) {
    return fail(state, "ACCESS_DENIED", "not authenticated");
  }
  return {
    state: { ...state, auth: null, subscriptions: new Map() },
    effects: [
      ...Array.from(
        state.subscriptions.values(),
        (subscription): Effect => ({ kind: "unsubscribe", subscription }),
      ),
      send(answerFrame("loggedOut", true)),
    ],
  };
}
