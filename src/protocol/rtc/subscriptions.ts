/**
 * `Subscribe` and `Unsubscribe` of the Real-time Communication Service
 * protocol, and what comes of the subscriptions they ask the core for:
 * topics become channel or pattern subscriptions, answered once every one
 * has started. The personal channel's subscription, made at connect, is
 * answered with the welcome.
 *
 * @module
 */

import { allows, type Authentication } from "../authentication.ts";
import { CloseCode } from "../close_codes.ts";
import type { Effect, Input } from "../effects.ts";
import { endFailedSubscription } from "../failed_subscription.ts";
import { CATCH_UP_BATCH } from "../outbound.ts";
import { liveStart } from "../position.ts";
import { quote } from "../publication.ts";
import { unchanged } from "../replies.ts";
import { memberOf } from "../requests.ts";
import { decodeParams } from "../schema.ts";
import type { Subscription } from "../state.ts";
import { lifetime } from "../token_lifetime.ts";
import { type Envelope, TopicsData } from "./envelope.ts";
import {
  ackFrame,
  errorFrame,
  FEATURES,
  PROTOCOL_VERSION,
  statusFrame,
  unixSeconds,
} from "./frames.ts";
import {
  protocolErrorFrame,
  reply,
  type RtcStep,
  send,
  track,
  untrack,
  withScope,
} from "./replies.ts";
import type { PendingRequest, RtcState, TopicFailure } from "./state.ts";
import { TOKEN_NOTICES } from "./token_notices.ts";
import { type Topic, topicOf, topicOfChannel } from "./topics.ts";

/**
 * `Subscribe {topics}`: every topic is checked before any is subscribed
 * (one bad topic refuses the request); topics already subscribed are
 * answered as subscribed. The answer waits until every new subscription
 * has started.
 */
export function subscribe(state: RtcState, envelope: Envelope): RtcStep {
  const { id } = envelope;
  const understood = topicsOf(envelope);
  if (!understood.ok) return reply(state, understood.error);
  const topics = understood.names;
  const scoped = withScope(state, "subscribe", id);
  if (!scoped.ok) return reply(state, scoped.error);
  const auth = scoped.auth;
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
    effects.push(
      startEffect(
        subscription,
        requestId,
        numbered.limits.namespaces.policyOf(topic.channel).maxSubscribers,
      ),
    );
  }
  const next = { ...numbered, subscriptions, subscriptionsOpened: opened };
  if (fresh.length === 0) return settle(next, requestId);
  return { state: next, effects };
}

/** `Unsubscribe {topics}`: those subscribed end; the others are already gone. */
export function unsubscribe(state: RtcState, envelope: Envelope): RtcStep {
  const { id } = envelope;
  const understood = topicsOf(envelope);
  if (!understood.ok) return reply(state, understood.error);
  const topics = understood.names;
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

/**
 * The topics of a `Subscribe` or `Unsubscribe`, without repeats, as given
 * and understood; an `Error` frame for malformed data or the first topic
 * that is not one (which refuses them all).
 */
function topicsOf(envelope: Envelope):
  | {
    readonly ok: true;
    readonly names: readonly string[];
    readonly topics: readonly Topic[];
  }
  | { readonly ok: false; readonly error: string } {
  const { id } = envelope;
  const decoded = decodeParams(TopicsData, envelope.data, "data");
  if (!decoded.ok) {
    return { ok: false, error: protocolErrorFrame(decoded.error, id) };
  }
  const names = [...new Set(decoded.value.topics)];
  const understood: Topic[] = [];
  for (const name of names) {
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
  return { ok: true, names, topics: understood };
}

/**
 * The welcome `Status connected`; the token's timers start with it, so no
 * warning comes before it.
 */
function welcome(state: RtcState, now: number): RtcStep {
  const frame = send(statusFrame("connected", {
    connection_id: state.connectionId,
    server_time: unixSeconds(now),
    protocol_version: PROTOCOL_VERSION,
    features: FEATURES,
  }));
  return {
    state,
    effects: state.auth === null
      ? [frame]
      : [frame, ...lifetime(state.auth, now, TOKEN_NOTICES)],
  };
}

/**
 * The personal channel's subscription, made at connect: a presence member
 * (so `delivered_to` finds it) told of no joins. Its start is answered with
 * the welcome. A token without the `subscribe` scope may subscribe to
 * nothing, its own channel included (as on the native protocol): it is
 * welcomed at once and receives no direct messages.
 */
export function subscribePersonal(
  state: RtcState,
  auth: Authentication,
  now: number,
): RtcStep {
  if (!auth.scopes.has("subscribe")) return welcome(state, now);
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
    effects: [startEffect(subscription, requestId, 0)],
  };
}

/** Asks the core for a subscription that starts live (a topic has no `since`). */
function startEffect(
  subscription: Subscription,
  requestId: number,
  maxSubscribers: number,
): Effect {
  return {
    kind: "subscribe",
    subscription,
    requestId,
    recover: false,
    since: null,
    limit: CATCH_UP_BATCH,
    maxSubscribers,
  };
}

/** Topic subscriptions, not counting the personal channel's. */
function topicCount(state: RtcState): number {
  const personal = state.auth === null
    ? false
    : state.subscriptions.has(`#${state.auth.subject}`);
  return state.subscriptions.size - (personal ? 1 : 0);
}

/** The hub holds the subscription: it goes live, and its request counts it done. */
export function onSubscribed(
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
    start: liveStart(read?.position),
  };
  const settled = requestId === undefined
    ? unchanged(state)
    : progress(state, requestId, { failure: null, now });
  return { state: settled.state, effects: [activate, ...settled.effects] };
}

/** A subscription could not start: it ends, and its request hears why. */
export function onSubscribeFailed(
  state: RtcState,
  { subscription, requestId }: {
    readonly subscription: Subscription;
    readonly requestId: number | undefined;
  },
  failure: { readonly code: number; readonly message: string },
  now: number,
): RtcStep {
  return endFailedSubscription(
    state,
    subscription,
    (without) =>
      requestId === undefined
        ? unchanged(without)
        : progress(without, requestId, {
          failure: { topic: topicOfChannel(subscription.channel), ...failure },
          now,
        }),
  );
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
    return welcome(done, now);
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
