/**
 * `Broadcast`, `DirectMessage` and `X-` types of the Real-time Communication
 * Service protocol: publishes and back-end calls through the core, and
 * their acknowledgements when the outcomes come back.
 *
 * @module
 */

import { allows } from "../authentication.ts";
import { isPersonalChannel } from "../channel.ts";
import type { Input } from "../effects.ts";
import { quote } from "../publication.ts";
import { unchanged } from "../replies.ts";
import { decodeParams } from "../schema.ts";
import { utf8ByteLength } from "../size.ts";
import { BroadcastData, DirectMessageData, type Envelope } from "./envelope.ts";
import { ackFrame, errorFrame } from "./frames.ts";
import {
  answer,
  refuse,
  reply,
  type RtcStep,
  track,
  withScope,
} from "./replies.ts";
import type { PendingRequest, RtcState } from "./state.ts";
import { topicOf } from "./topics.ts";

/** The event name a client's `Broadcast` is published with (native clients see it). */
export const BROADCAST_EVENT = "Broadcast";

/** The event name a client's `DirectMessage` is published with. */
export const DIRECT_MESSAGE_EVENT = "DirectMessage";

/**
 * `Broadcast {topic, payload}`: published to the topic's channel (scope
 * `publish`, the channel granted, its namespace allowing client
 * publishing), answered with an `Ack` counting the connections subscribed.
 */
export function broadcast(state: RtcState, envelope: Envelope): RtcStep {
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
  const scoped = withScope(state, "publish", id);
  if (!scoped.ok) return reply(state, scoped.error);
  const auth = scoped.auth;
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
export function directMessage(state: RtcState, envelope: Envelope): RtcStep {
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
  const scoped = withScope(state, "direct", id);
  if (!scoped.ok) return reply(state, scoped.error);
  const auth = scoped.auth;
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
  if (utf8ByteLength(payloadJson) > limit) {
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
export function onPublished(
  state: RtcState,
  input: Extract<Input, { kind: "published" }>,
): RtcStep {
  const { requestId } = input;
  if (requestId === undefined) return unchanged(state);
  const pending = state.pending.get(requestId);
  if (pending?.kind === "direct") {
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
 * their welcomes named them (an `Ack` only for a message with an `id`);
 * nobody, and the message waits in history: `Error 404` either way.
 */
export function onTargetRead(
  state: RtcState,
  requestId: number,
  presence: Extract<Input, { kind: "presenceRead" }>["presence"],
): RtcStep {
  return answer(state, requestId, (pending) => {
    if (pending.kind !== "direct") return null;
    const connections = "members" in presence
      ? presence.members.map((member) => member.connectionId)
      : [];
    if (connections.length > 0) {
      return pending.id === undefined
        ? null
        : ackFrame(pending.id, "delivered", { delivered_to: connections });
    }
    return errorFrame(
      404,
      `User ${pending.target} not found or not connected`,
      pending.id,
      { queued: true },
    );
  });
}

/** An `X-` type: the back-end is asked (scope `trigger`, as the native `trigger`). */
export function custom(state: RtcState, envelope: Envelope): RtcStep {
  const { id, type } = envelope;
  if (type.length === 2) {
    return reply(
      state,
      errorFrame(400, "a custom type needs a name after X-", id),
    );
  }
  const scoped = withScope(state, "trigger", id);
  if (!scoped.ok) return reply(state, scoped.error);
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

/**
 * The back-end answered an `X-` type: an `Ack` with its response, or,
 * without an `id`, a frame of the same type carrying it.
 */
export function onTriggered(
  state: RtcState,
  requestId: number | undefined,
  responseJson: string,
): RtcStep {
  return answer(state, requestId, (pending) => {
    if (pending.kind !== "custom") return null;
    return pending.id === undefined
      ? `{"type":${JSON.stringify(pending.type)},"data":${responseJson}}`
      : `{"type":"Ack","data":{"message_id":${
        JSON.stringify(pending.id)
      },"status":"delivered","response":${responseJson}}}`;
  });
}
