/**
 * The Real-time Communication Service protocol (SPEC §11, document
 * `002`), as a pure reducer over the same core effects as the native one:
 * `(state, input, now) → { state, effects }`. It translates frames; delivery,
 * history, presence, limits and auth are the core's.
 *
 * A request that needs effects (a subscribe, a publish, the back-end) is
 * numbered, kept in `pending`, and answered when the effects' outcomes come
 * back as inputs: an `Ack` echoes the client's `id` as `message_id`.
 *
 * @module
 */

import { allows, type Authentication } from "../authentication.ts";
import { isPersonalChannel } from "../channel.ts";
import { CloseCode } from "../close_codes.ts";
import type { Effect, Input, Step } from "../effects.ts";
import type { ProtocolError } from "../errors.ts";
import {
  CATCH_UP_BATCH,
  onBacklog,
  onDrainCheckTimer,
  onLagging,
  onSlowConsumerTimer,
} from "../outbound.ts";
import type { StreamRead, SubscriptionStart } from "../position.ts";
import { quote } from "../publication.ts";
import { admit } from "../rate_limit.ts";
import { unchanged } from "../replies.ts";
import { memberOf } from "../requests.ts";
import { decodeParams } from "../schema.ts";
import type { Subscription } from "../state.ts";
import {
  lifetime,
  onTokenTimer,
  type TokenNotices,
} from "../token_lifetime.ts";
import { readBinary } from "./binary.ts";
import {
  BroadcastData,
  decodeEnvelope,
  DirectMessageData,
  type Envelope,
  PingData,
  TopicsData,
} from "./envelope.ts";
import {
  ackFrame,
  ERROR_STATUS,
  errorFrame,
  failureStatus,
  FEATURES,
  frame,
  type MessageId,
  PROTOCOL_VERSION,
  statusFrame,
  unixSeconds,
} from "./frames.ts";
import type { PendingRequest, RtcState, TopicFailure } from "./state.ts";
import { type Topic, topicOf, topicOfChannel } from "./topics.ts";

/** One step of a connection of this protocol. */
export type RtcStep = Step<RtcState>;

/** The event name a client's `Broadcast` is published with (native clients see it). */
export const BROADCAST_EVENT = "Broadcast";

/** The event name a client's `DirectMessage` is published with. */
export const DIRECT_MESSAGE_EVENT = "DirectMessage";

function send(text: string): Effect {
  return { kind: "send", text };
}

/** `AuthStatus token_expiring` 60 s before `exp`; `Error 401` just before the close with 4001. */
const TOKEN_NOTICES: TokenNotices = {
  expiring: (auth) =>
    send(frame("AuthStatus", {
      status: "token_expiring",
      expires_at: unixSeconds(auth.expiresAt),
      refresh_required: true,
    })),
  expired: [
    send(
      errorFrame(
        401,
        "token expired: obtain a new token and reconnect",
        undefined,
      ),
    ),
  ],
};

/**
 * Decides what one input does to a connection of this protocol.
 *
 * @example
 * ```ts
 * import { DEFAULT_CHANNEL_POLICY, Namespaces } from "../namespaces.ts";
 * import { reduce } from "./reducer.ts";
 * import { rtcState } from "./state.ts";
 *
 * const state = rtcState("c1", {
 *   maxSubscriptions: 128,
 *   maxMessageBytes: 65536,
 *   rateLimit: 100,
 *   outboundBufferBytes: 1 << 20,
 *   presenceMaxMembers: 1000,
 *   namespaces: new Namespaces(DEFAULT_CHANNEL_POLICY),
 * }, {
 *   subject: "alice",
 *   channels: new Set(),
 *   grants: [],
 *   scopes: new Set(["subscribe"]),
 *   expiresAt: 3_600_000,
 * });
 * const { effects } = reduce(state, {
 *   kind: "frame",
 *   text: '{"type":"Ping","data":{"timestamp":7}}',
 * }, 0);
 * // effects: [{ kind: "send", text: '{"type":"Pong","data":{"timestamp":7}}' }]
 * ```
 */
export function reduce(
  state: RtcState,
  input: Input,
  now: number,
): RtcStep {
  if (state.closed) return unchanged(state);
  switch (input.kind) {
    case "opened":
      return onOpened(state, now);
    case "frame":
      return admitted(state, now, (admittedState) => {
        const decoded = decodeEnvelope(input.text);
        return decoded.ok
          ? onMessage(admittedState, decoded.envelope, now)
          : reply(admittedState, errorFrame(400, decoded.message, decoded.id));
      });
    case "binaryFrame":
      if (input.bytes.length > state.limits.maxMessageBytes) {
        return tooBig(state);
      }
      return admitted(state, now, (admittedState) => {
        const read = readBinary(input.bytes);
        return reply(
          admittedState,
          read.ok
            ? statusFrame("binary_received", { ...read.receipt })
            : errorFrame(400, read.message, undefined),
        );
      });
    case "oversizedFrame":
      return tooBig(state);
    case "timer":
      switch (input.name) {
        case "slowConsumer":
          return onSlowConsumerTimer(state);
        case "drainCheck":
          return onDrainCheckTimer(state);
        default:
          return onTokenTimer(state, input.name, now, TOKEN_NOTICES);
      }
    case "subscribed":
      return onSubscribed(state, input, now);
    case "subscribeFailed":
      return onSubscribeFailed(state, input, {
        code: failureStatus(input.failure),
        message: input.failure === "unavailable"
          ? "the engine is unavailable, try again"
          : "internal error",
      });
    case "channelFull":
      return onSubscribeFailed(state, input, {
        code: 429,
        message: `at most ${input.limit} subscribers`,
      });
    case "lagging":
      return onLagging(state, now);
    case "backlog":
      return onBacklog(state, input.bytes, now);
    case "published":
      return onPublished(state, input);
    case "presenceRead":
      return onTargetRead(state, input.requestId, input.presence);
    case "engineFailed":
      return answer(state, input.requestId, (pending) =>
        errorFrame(
          failureStatus(input.failure),
          input.failure === "unavailable"
            ? `${input.operation} failed: the engine is unavailable, try again`
            : `${input.operation} failed: internal error`,
          idOf(pending),
        ));
    case "triggered":
      return answer(state, input.requestId, (pending) => {
        if (pending.kind !== "custom") return null;
        return pending.id === undefined
          ? `{"type":${
            JSON.stringify(pending.type)
          },"data":${input.responseJson}}`
          : `{"type":"Ack","data":{"message_id":${
            JSON.stringify(pending.id)
          },"status":"delivered","response":${input.responseJson}}}`;
      });
    case "triggerFailed":
      return answer(state, input.requestId, (pending) =>
        errorFrame(
          503,
          `the back-end failed: ${input.reason}`,
          idOf(pending),
        ));
    case "closed":
      return {
        state: {
          ...state,
          closed: true,
          subscriptions: new Map(),
          pending: new Map(),
        },
        effects: Array.from(
          state.subscriptions.values(),
          (subscription): Effect => ({ kind: "unsubscribe", subscription }),
        ),
      };
    case "tokenVerified":
    case "historyRead":
      // Never asked for: this protocol authenticates on the upgrade and has no history request.
      return unchanged(state);
  }
}

/**
 * The socket is open: the token's timers start, and the user's personal
 * channel is subscribed, so its direct messages arrive without asking. The
 * welcome follows once that subscription stands: a client that has it can
 * be reached.
 */
function onOpened(state: RtcState, now: number): RtcStep {
  const auth = state.auth;
  if (auth === null) {
    return {
      state,
      effects: [
        send(errorFrame(401, "not authenticated", undefined)),
        { kind: "close", code: CloseCode.TokenExpired, reason: "no token" },
      ],
    };
  }
  const channel = `#${auth.subject}`;
  const policy = state.limits.namespaces.policyOf(channel);
  const opened = state.subscriptionsOpened + 1;
  const subscription: Subscription = {
    id: `${state.connectionId}.${opened}`,
    channel,
    ...(policy.presence ? { member: memberOf(auth, state.connectionId) } : {}),
  };
  const { state: numbered, requestId } = track(state, { kind: "welcome" });
  const subscriptions = new Map(numbered.subscriptions);
  subscriptions.set(channel, subscription);
  return {
    state: { ...numbered, subscriptions, subscriptionsOpened: opened },
    effects: [
      ...lifetime(auth, now, TOKEN_NOTICES),
      {
        kind: "subscribe",
        subscription,
        requestId,
        recover: false,
        since: null,
        limit: CATCH_UP_BATCH,
        maxSubscribers: 0,
      },
    ],
  };
}

/** Every frame spends from the rate budget, malformed and binary ones too. */
function admitted(
  previous: RtcState,
  now: number,
  next: (state: RtcState) => RtcStep,
): RtcStep {
  const { state: rate, admission } = admit(
    previous.rate,
    previous.limits.rateLimit,
    now,
  );
  const state = { ...previous, rate };
  if (admission === "admit") return next(state);
  const effects: Effect[] = [
    { kind: "count", counter: "rateLimited" },
    send(
      errorFrame(
        429,
        `rate limit exceeded: at most ${state.limits.rateLimit} messages per second`,
        undefined,
      ),
    ),
  ];
  if (admission === "abuse") {
    effects.push({
      kind: "close",
      code: CloseCode.PolicyViolation,
      reason: "rate limit abuse",
    });
  }
  return { state, effects };
}

function onMessage(state: RtcState, envelope: Envelope, now: number): RtcStep {
  const { type, id } = envelope;
  switch (type) {
    case "Ping": {
      const decoded = decodeParams(PingData, envelope.data ?? {}, "data");
      if (!decoded.ok) return refuse(state, decoded.error, id);
      return reply(
        state,
        frame("Pong", {
          timestamp: decoded.value.timestamp ?? unixSeconds(now),
        }),
      );
    }
    case "Pong":
      // The answer to a Ping the document's client may send unasked: nothing to do.
      return unchanged(state);
    case "Subscribe":
      return subscribe(state, envelope);
    case "Unsubscribe":
      return unsubscribe(state, envelope);
    case "Broadcast":
      return broadcast(state, envelope);
    case "DirectMessage":
      return directMessage(state, envelope);
    default:
      if (type.startsWith("X-")) return custom(state, envelope);
      return reply(
        state,
        errorFrame(400, `unknown message type ${quote(type)}`, id),
      );
  }
}

/**
 * `Subscribe {topics}`: every topic is checked before any is subscribed
 * (one bad topic refuses the request); topics already subscribed are
 * answered as subscribed. The answer waits until every new subscription
 * has started.
 */
function subscribe(state: RtcState, envelope: Envelope): RtcStep {
  const { id } = envelope;
  const decoded = decodeParams(TopicsData, envelope.data, "data");
  if (!decoded.ok) return refuse(state, decoded.error, id);
  const topics = [...new Set(decoded.value.topics)];
  const understood = understand(topics, id);
  if (!understood.ok) return reply(state, understood.error);
  const auth = state.auth;
  if (auth === null) {
    return reply(state, errorFrame(401, "not authenticated", id));
  }
  if (!auth.scopes.has("subscribe")) {
    return reply(
      state,
      errorFrame(403, "the token lacks the subscribe scope", id),
    );
  }
  const denied = understood.topics.find((topic) =>
    !allows(auth, "subscribe", topic.channel)
  );
  if (denied !== undefined) {
    return reply(
      state,
      errorFrame(
        403,
        `topic ${quote(denied.topic)} is not authorized by the token`,
        id,
        { topic: denied.topic },
      ),
    );
  }
  const fresh = understood.topics.filter((topic) =>
    !state.subscriptions.has(topic.channel)
  );
  if (topicCount(state) + fresh.length > state.limits.maxSubscriptions) {
    return reply(
      state,
      errorFrame(
        429,
        `too many subscriptions: the limit is ${state.limits.maxSubscriptions} topics per connection`,
        id,
      ),
    );
  }
  const { state: numbered, requestId } = track(state, {
    kind: "subscribe",
    id,
    topics,
    waiting: fresh.length,
    failures: [],
  });
  const subscriptions = new Map(numbered.subscriptions);
  const effects: Effect[] = [];
  let opened = numbered.subscriptionsOpened;
  for (const topic of fresh) {
    opened++;
    const subscription = newSubscription(numbered, auth, topic, opened);
    subscriptions.set(topic.channel, subscription);
    effects.push({
      kind: "subscribe",
      subscription,
      requestId,
      recover: false,
      since: null,
      limit: CATCH_UP_BATCH,
      maxSubscribers: numbered.limits.namespaces.policyOf(topic.channel)
        .maxSubscribers,
    });
  }
  const next = { ...numbered, subscriptions, subscriptionsOpened: opened };
  if (fresh.length === 0) return settle(next, requestId);
  return { state: next, effects };
}

/**
 * A topic's subscription: a member of the channel's presence (and told of
 * joins and leaves) where its namespace has them; a pattern is neither.
 */
function newSubscription(
  state: RtcState,
  auth: Authentication,
  topic: Topic,
  opened: number,
): Subscription {
  const id = `${state.connectionId}.${opened}`;
  if (topic.pattern) return { id, channel: topic.channel, pattern: true };
  const policy = state.limits.namespaces.policyOf(topic.channel);
  return {
    id,
    channel: topic.channel,
    ...(policy.presence && policy.joinLeave ? { joinLeave: true } : {}),
    ...(policy.presence ? { member: memberOf(auth, state.connectionId) } : {}),
  };
}

/** The topics, understood; the first that is not one refuses them all. */
function understand(
  topics: readonly string[],
  id: MessageId | undefined,
):
  | { readonly ok: true; readonly topics: readonly Topic[] }
  | { readonly ok: false; readonly error: string } {
  const understood: Topic[] = [];
  for (const name of topics) {
    const topic = topicOf(name);
    if (topic === null) {
      return {
        ok: false,
        error: errorFrame(
          400,
          `invalid topic ${
            quote(name)
          }: dot-separated segments of letters, digits, _ and -, or * and > as wildcards`,
          id,
          { topic: name },
        ),
      };
    }
    understood.push(topic);
  }
  return { ok: true, topics: understood };
}

/** Topic subscriptions, not counting the personal channel's. */
function topicCount(state: RtcState): number {
  const personal = state.auth === null
    ? false
    : state.subscriptions.has(`#${state.auth.subject}`);
  return state.subscriptions.size - (personal ? 1 : 0);
}

/** The hub holds the subscription: it goes live, and its request counts it done. */
function onSubscribed(
  state: RtcState,
  input: Extract<Input, { kind: "subscribed" }>,
  now: number,
): RtcStep {
  const { subscription, requestId, read } = input;
  if (state.subscriptions.get(subscription.channel) !== subscription) {
    // Ended while it was being set up: the hub must not keep it.
    return {
      state,
      effects: [{ kind: "unsubscribe", subscription }],
    };
  }
  const activate: Effect = {
    kind: "activate",
    subscription,
    start: liveFrom(read),
  };
  const settled = requestId === undefined
    ? unchanged(state)
    : progress(state, requestId, { failure: null, now });
  return { state: settled.state, effects: [activate, ...settled.effects] };
}

/** Where a subscription without `since` starts: at the stream's position, nothing replayed. */
function liveFrom(read: StreamRead | null): SubscriptionStart {
  return read === null ? { epoch: "", base: 0, replay: [], end: 0 } : {
    epoch: read.position.epoch,
    base: read.position.offset,
    replay: [],
    end: read.position.offset,
  };
}

/** A subscription could not start: it ends, and its request hears why. */
function onSubscribeFailed(
  state: RtcState,
  { subscription, requestId }: {
    readonly subscription: Subscription;
    readonly requestId: number | undefined;
  },
  failure: { readonly code: number; readonly message: string },
): RtcStep {
  const unsubscribe: Effect = { kind: "unsubscribe", subscription };
  if (state.subscriptions.get(subscription.channel) !== subscription) {
    return { state, effects: [unsubscribe] };
  }
  const subscriptions = new Map(state.subscriptions);
  subscriptions.delete(subscription.channel);
  const without = { ...state, subscriptions };
  const settled = requestId === undefined
    ? unchanged(without)
    : progress(without, requestId, {
      failure: { topic: topicOfChannel(subscription.channel), ...failure },
      now: 0,
    });
  return { state: settled.state, effects: [unsubscribe, ...settled.effects] };
}

/** One more subscription of request `requestId` started (or failed, with `failure`) at `now`. */
function progress(
  state: RtcState,
  requestId: number,
  { failure, now }: {
    readonly failure: TopicFailure | null;
    readonly now: number;
  },
): RtcStep {
  const pending = state.pending.get(requestId);
  if (pending === undefined) return unchanged(state);
  if (pending.kind === "welcome") {
    const { state: done } = untrack(state, requestId);
    if (failure !== null) {
      return {
        state: done,
        effects: [
          send(errorFrame(
            failure.code,
            `direct messages cannot be received: ${failure.message}`,
            undefined,
          )),
          {
            kind: "close",
            code: CloseCode.TryAgainLater,
            reason: "could not subscribe to direct messages",
          },
        ],
      };
    }
    return reply(
      done,
      statusFrame("connected", {
        connection_id: state.connectionId,
        server_time: unixSeconds(now),
        protocol_version: PROTOCOL_VERSION,
        features: FEATURES,
      }),
    );
  }
  if (pending.kind !== "subscribe") return unchanged(state);
  const next: PendingRequest = {
    ...pending,
    waiting: pending.waiting - 1,
    failures: failure === null
      ? pending.failures
      : [...pending.failures, failure],
  };
  const tracked = new Map(state.pending);
  tracked.set(requestId, next);
  const updated = { ...state, pending: tracked };
  return next.waiting > 0 ? unchanged(updated) : settle(updated, requestId);
}

/**
 * Every subscription of a `Subscribe` has started or failed: the failures
 * first (one `Error` naming their topics), then `Status subscribed` with
 * the topics that stand and, when the request had an `id`, an `Ack` (the
 * document's own client waits for one).
 */
function settle(state: RtcState, requestId: number): RtcStep {
  const { state: done, pending } = untrack(state, requestId);
  if (pending?.kind !== "subscribe") return unchanged(done);
  const { id, failures } = pending;
  const effects: Effect[] = [];
  const first = failures[0];
  if (first !== undefined) {
    effects.push(send(errorFrame(
      first.code,
      `could not subscribe to ${
        failures.map((failure) => quote(failure.topic)).join(", ")
      }: ${first.message}`,
      id,
      { topics: failures.map((failure) => failure.topic) },
    )));
  }
  const failed = new Set(failures.map((failure) => failure.topic));
  const topics = pending.topics.filter((topic) => !failed.has(topic));
  if (topics.length > 0) {
    const details = { topics, "active_subscriptions": topicCount(done) };
    effects.push(send(statusFrame("subscribed", details)));
    if (id !== undefined) {
      effects.push(send(ackFrame(id, "subscribed", details)));
    }
  }
  return { state: done, effects };
}

/** `Unsubscribe {topics}`: those subscribed end; the others are already gone. */
function unsubscribe(state: RtcState, envelope: Envelope): RtcStep {
  const { id } = envelope;
  const decoded = decodeParams(TopicsData, envelope.data, "data");
  if (!decoded.ok) return refuse(state, decoded.error, id);
  const topics = [...new Set(decoded.value.topics)];
  const understood = understand(topics, id);
  if (!understood.ok) return reply(state, understood.error);
  const subscriptions = new Map(state.subscriptions);
  const effects: Effect[] = [];
  for (const { channel } of understood.topics) {
    const subscription = subscriptions.get(channel);
    if (subscription === undefined) continue;
    subscriptions.delete(channel);
    effects.push({ kind: "unsubscribe", subscription });
  }
  const next = { ...state, subscriptions };
  const details = { topics, "active_subscriptions": topicCount(next) };
  effects.push(send(statusFrame("unsubscribed", details)));
  if (id !== undefined) {
    effects.push(send(ackFrame(id, "unsubscribed", details)));
  }
  return { state: next, effects };
}

/**
 * `Broadcast {topic, payload}`: published to the topic's channel (scope
 * `publish`, the channel granted, its namespace allowing client
 * publishing), answered with an `Ack` counting the connections subscribed.
 */
function broadcast(state: RtcState, envelope: Envelope): RtcStep {
  const { id } = envelope;
  const decoded = decodeParams(BroadcastData, envelope.data, "data");
  if (!decoded.ok) return refuse(state, decoded.error, id);
  const { topic: name, payload } = decoded.value;
  const topic = topicOf(name);
  if (topic === null || topic.pattern) {
    return reply(
      state,
      errorFrame(
        400,
        topic === null
          ? `invalid topic ${quote(name)}`
          : `${quote(name)} is a pattern: a broadcast goes to one topic`,
        id,
        { topic: name },
      ),
    );
  }
  const auth = state.auth;
  if (auth === null) {
    return reply(state, errorFrame(401, "not authenticated", id));
  }
  if (!auth.scopes.has("publish")) {
    return reply(
      state,
      errorFrame(403, "the token lacks the publish scope", id),
    );
  }
  if (!allows(auth, "publish", topic.channel)) {
    return reply(
      state,
      errorFrame(
        403,
        `topic ${quote(name)} is not authorized by the token`,
        id,
        { topic: name },
      ),
    );
  }
  if (!state.limits.namespaces.policyOf(topic.channel).clientPublish) {
    return reply(
      state,
      errorFrame(
        403,
        `clients may not broadcast to ${quote(name)}: its namespace says so`,
        id,
        { topic: name },
      ),
    );
  }
  return publish(state, { kind: "broadcast", id }, {
    channel: topic.channel,
    event: BROADCAST_EVENT,
    payload,
  });
}

/**
 * `DirectMessage {target_user, payload}` (scope `direct`): published to the
 * target's personal channel, where it stays in history for a user who is
 * offline.
 */
function directMessage(state: RtcState, envelope: Envelope): RtcStep {
  const { id } = envelope;
  const decoded = decodeParams(DirectMessageData, envelope.data, "data");
  if (!decoded.ok) return refuse(state, decoded.error, id);
  const { target_user: target, payload } = decoded.value;
  const channel = `#${target}`;
  if (!isPersonalChannel(channel)) {
    return reply(
      state,
      errorFrame(
        400,
        `invalid target_user ${
          quote(target)
        }: at most 254 characters, no control characters`,
        id,
      ),
    );
  }
  const auth = state.auth;
  if (auth === null) {
    return reply(state, errorFrame(401, "not authenticated", id));
  }
  if (!auth.scopes.has("direct")) {
    return reply(
      state,
      errorFrame(403, "the token lacks the direct scope", id),
    );
  }
  return publish(state, { kind: "direct", id, target }, {
    channel,
    event: DIRECT_MESSAGE_EVENT,
    payload,
    from: auth.subject,
  });
}

/** Serialises the payload once, checks its size, and hands the message to the engine. */
function publish(
  state: RtcState,
  pending: Extract<PendingRequest, { kind: "broadcast" | "direct" }>,
  message: {
    readonly channel: string;
    readonly event: string;
    readonly payload: unknown;
    readonly from?: string;
  },
): RtcStep {
  const payloadJson = JSON.stringify(message.payload);
  const limit = state.limits.maxMessageBytes;
  if (new TextEncoder().encode(payloadJson).length > limit) {
    return reply(
      state,
      errorFrame(400, `payload over the limit of ${limit} bytes`, pending.id),
    );
  }
  const { state: numbered, requestId } = track(state, pending);
  return {
    state: numbered,
    effects: [{
      kind: "publish",
      message: {
        channel: message.channel,
        event: message.event,
        payloadJson,
        from: message.from,
      },
      requestId,
      // Only an Ack says how many received it.
      ...(pending.kind === "broadcast" && pending.id !== undefined
        ? { audience: true as const }
        : {}),
    }],
  };
}

/**
 * The engine took a message: a `Broadcast` is acknowledged with its
 * recipients; a `DirectMessage` waits to learn who its target is connected
 * as. Without an `id`, nothing is acknowledged.
 */
function onPublished(
  state: RtcState,
  input: Extract<Input, { kind: "published" }>,
): RtcStep {
  const { requestId } = input;
  if (requestId === undefined) return unchanged(state);
  const pending = state.pending.get(requestId);
  if (pending?.kind === "direct" && pending.id !== undefined) {
    return {
      state,
      effects: [{
        kind: "presence",
        channel: input.message.channel,
        requestId,
        stats: false,
        max: state.limits.presenceMaxMembers,
      }],
    };
  }
  return answer(
    state,
    requestId,
    (request) =>
      request.kind === "broadcast" && request.id !== undefined
        ? ackFrame(request.id, "delivered", {
          recipients: input.recipients ?? 0,
        })
        : null,
  );
}

/**
 * Who holds the target's personal channel: its connections, named as
 * their welcomes named them; nobody, and the message waits in history.
 */
function onTargetRead(
  state: RtcState,
  requestId: number,
  presence: Extract<Input, { kind: "presenceRead" }>["presence"],
): RtcStep {
  return answer(state, requestId, (pending) => {
    if (pending.kind !== "direct" || pending.id === undefined) return null;
    const connections = "members" in presence
      ? presence.members.map((member) => member.connectionId)
      : [];
    return connections.length > 0
      ? ackFrame(pending.id, "delivered", { delivered_to: connections })
      : errorFrame(
        404,
        `User ${pending.target} not found or not connected`,
        pending.id,
        { queued: true },
      );
  });
}

/** An `X-` type: the back-end is asked (scope `trigger`, as the native `trigger`). */
function custom(state: RtcState, envelope: Envelope): RtcStep {
  const { id, type } = envelope;
  const auth = state.auth;
  if (auth === null) {
    return reply(state, errorFrame(401, "not authenticated", id));
  }
  if (!auth.scopes.has("trigger")) {
    return reply(
      state,
      errorFrame(403, "the token lacks the trigger scope", id),
    );
  }
  if (state.limits.trigger !== true) {
    return reply(
      state,
      errorFrame(404, `no back-end handles ${quote(type)}`, id),
    );
  }
  const { state: numbered, requestId } = track(state, {
    kind: "custom",
    id,
    type,
  });
  return {
    state: numbered,
    effects: [{
      kind: "trigger",
      event: type,
      dataJson: JSON.stringify(envelope.data ?? null),
      requestId,
    }],
  };
}

/** Numbers a request and keeps it until its effects come back. */
function track(
  state: RtcState,
  pending: PendingRequest,
): { readonly state: RtcState; readonly requestId: number } {
  const requestId = state.requestsOpened + 1;
  const tracked = new Map(state.pending);
  tracked.set(requestId, pending);
  return {
    state: { ...state, pending: tracked, requestsOpened: requestId },
    requestId,
  };
}

/** Forgets a request: it is answered. */
function untrack(
  state: RtcState,
  requestId: number,
): { readonly state: RtcState; readonly pending: PendingRequest | undefined } {
  const pending = state.pending.get(requestId);
  if (pending === undefined) return { state, pending };
  const tracked = new Map(state.pending);
  tracked.delete(requestId);
  return { state: { ...state, pending: tracked }, pending };
}

/** Answers request `requestId` with the frame `build` makes of it (none for `null`), and forgets it. */
function answer(
  state: RtcState,
  requestId: number | undefined,
  build: (pending: PendingRequest) => string | null,
): RtcStep {
  if (requestId === undefined) return unchanged(state);
  const { state: done, pending } = untrack(state, requestId);
  if (pending === undefined) return unchanged(done);
  const text = build(pending);
  return text === null ? unchanged(done) : reply(done, text);
}

/** The client's id of a request, when it had one. */
function idOf(pending: PendingRequest): MessageId | undefined {
  return pending.kind === "welcome" ? undefined : pending.id;
}

function reply(state: RtcState, text: string): RtcStep {
  return { state, effects: [send(text)] };
}

/** A protocol error (a `data` field the schema refused): its numeric code. */
function refuse(
  state: RtcState,
  error: ProtocolError,
  id: MessageId | undefined,
): RtcStep {
  return reply(state, errorFrame(ERROR_STATUS[error.code], error.message, id));
}

function tooBig(state: RtcState): RtcStep {
  return {
    state,
    effects: [{
      kind: "close",
      code: CloseCode.MessageTooBig,
      reason: `frame over ${state.limits.maxMessageBytes} bytes`,
    }],
  };
}
