/**
 * The protocol core: every decision about one connection, as a pure function.
 *
 * `reduce(state, input, now)` returns the next state and the effects the shell
 * must run. It performs no I/O, reads no clock and draws no random numbers;
 * it never throws for any input (the property tests hold it to that). Every
 * frame a client receives is built here, the answers to asynchronous work
 * included: the shell runs an effect and feeds its outcome back as an input.
 *
 * @module
 */

import { onClosed, onOversizedFrame } from "./closed.ts";
import { endFailedSubscription } from "./failed_subscription.ts";
import { CloseCode } from "./close_codes.ts";
import type { Effect, Input } from "./effects.ts";
import { engineError } from "./engine_failure.ts";
import { resultFrame } from "./frames.ts";
import { formatTimestamp, messagesJson } from "./message.ts";
import { onBacklog, onLagging } from "./outbound.ts";
import { formatPosition, type SubscriptionStart } from "./position.ts";
import { presenceJson, presenceStatsJson } from "./presence.ts";
import { quote } from "./publication.ts";
import { admit, refusal } from "./rate_limit.ts";
import { type ConnectionStep, refuse, respond, unchanged } from "./replies.ts";
import {
  auth,
  history,
  onTokenVerified,
  presence,
  publish,
  subscribe,
  trigger,
  unsubscribe,
} from "./requests.ts";
import { decodeFrame } from "./schema.ts";
import type { ProtocolError } from "./errors.ts";
import type { ConnectionState, Subscription } from "./state.ts";
import { authDeadline, onTimer } from "./timers.ts";
import { lifetime } from "./token_lifetime.ts";

/**
 * Decides what one input does to a connection.
 *
 * @example
 * ```ts
 * import { DEFAULT_CHANNEL_POLICY, Namespaces } from "./namespaces.ts";
 * import { reduce } from "./reducer.ts";
 * import { initialState } from "./state.ts";
 *
 * const { effects } = reduce(
 *   initialState({
 *     connectionId: "c1",
 *     limits: {
 *       maxSubscriptions: 128,
 *       maxMessageBytes: 65536,
 *       rateLimit: 100,
 *       outboundBufferBytes: 1 << 20,
 *       presenceMaxMembers: 1000,
 *       namespaces: new Namespaces(DEFAULT_CHANNEL_POLICY),
 *     },
 *   }),
 *   { kind: "frame", text: '{"id":1,"method":"heartbeat"}' },
 *   0,
 * );
 * // effects: [{ kind: "reply", frame: { requestId: 1, result: { timestamp: "1970-01-01T00:00:00.000Z" } } }]
 * ```
 */
export function reduce(
  state: ConnectionState,
  input: Input,
  now: number,
): ConnectionStep {
  if (state.closed) return unchanged(state);
  switch (input.kind) {
    case "opened":
      return {
        state,
        effects: state.auth === null
          ? [authDeadline(state, now)]
          : lifetime(state.auth, now),
      };
    case "frame":
      return onFrame(state, input.text, now);
    case "oversizedFrame":
      return onOversizedFrame(state);
    case "binaryFrame":
      return close(
        state,
        CloseCode.UnsupportedData,
        "binary frames are not supported",
      );
    case "tokenVerified":
      if (input.overUserLimit === true) {
        const refused = refuse(state, input.requestId, {
          code: "ResourceExhausted",
          message: "too many connections for this user",
        });
        return {
          state,
          effects: [...refused.effects, {
            kind: "close",
            code: CloseCode.PolicyViolation,
            reason: "too many connections for this user",
          }],
        };
      }
      return onTokenVerified(state, input.requestId, input.outcome, now);
    case "timer":
      return onTimer(state, input.name, now);
    case "subscribed":
      return onSubscribed(state, input, now);
    case "subscribeFailed":
      return endSubscription(
        state,
        input.subscription,
        input.requestId,
        engineError("subscribe", input.failure),
      );
    case "channelFull":
      return endSubscription(state, input.subscription, input.requestId, {
        code: "ResourceExhausted",
        message: `channel ${
          quote(input.subscription.channel)
        } is full: at most ${input.limit} subscribers`,
      });
    case "lagging":
      return onLagging(state, now);
    case "published":
      return respond(state, input.requestId, {
        id: input.message.id,
        createTime: input.message.createTime,
      });
    case "engineFailed":
      return refuse(
        state,
        input.requestId,
        engineError(input.operation, input.failure),
      );
    case "historyRead":
      return replyJson(state, input.requestId, messagesJson(input.messages));
    case "triggered":
      return input.requestId === undefined ? unchanged(state) : replyJson(
        state,
        input.requestId,
        `{"triggered":${
          JSON.stringify(input.event)
        },"response":${input.responseJson}}`,
      );
    case "triggerFailed":
      return refuse(state, input.requestId, {
        code: "FailedPrecondition",
        message: `trigger failed: ${input.reason}`,
      });
    case "presenceRead":
      return replyJson(
        state,
        input.requestId,
        "members" in input.presence
          ? presenceJson(input.presence)
          : presenceStatsJson(input.presence),
      );
    case "backlog":
      return onBacklog(state, input.bytes, now);
    case "closed":
      return onClosed(state);
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
    const refused = refuse(
      state,
      decoded.ok ? decoded.request.requestId : decoded.requestId,
      {
        code: "ResourceExhausted",
        message:
          `rate limit exceeded: at most ${state.limits.rateLimit} requests per second`,
      },
    );
    return { state, effects: refusal(admission, refused.effects) };
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
      return subscribe(state, requestId, params);
    case "unsubscribe":
      return unsubscribe(state, requestId, params);
    case "publish":
      return publish(state, requestId, params);
    case "history":
      return history(state, requestId, params);
    case "presence":
      return presence(state, requestId, params, false);
    case "presenceStats":
      return presence(state, requestId, params, true);
    case "trigger":
      return trigger(state, requestId, params);
    case "heartbeat":
      return respond(state, requestId, { timestamp: formatTimestamp(now) });
    default:
      return refuse(state, requestId, {
        code: "NotFound",
        message: `method not found: ${quote(method)}`,
      });
  }
}

/**
 * The hub holds the subscription and the engine delivers its channel:
 * answer with the stream's position (and `recovered` when the client asked
 * to recover), then replay and go live. A client that cannot recover is
 * told `recovered: false` and must reload; the subscription itself stands,
 * counting from the position.
 */
function onSubscribed(
  state: ConnectionState,
  input: Extract<Input, { kind: "subscribed" }>,
  now: number,
): ConnectionStep {
  const { subscription, requestId, recover, since, read } = input;
  if (state.subscriptions.get(subscription.channel) !== subscription) {
    // Ended while it was being set up: the hub must not keep it.
    return { state, effects: [{ kind: "unsubscribe", subscription }] };
  }
  const effects: Effect[] = [];
  if (read === null) {
    // A pattern: no stream, so no position, nothing to recover.
    if (requestId !== undefined) {
      effects.push({
        kind: "reply",
        frame: resultFrame(requestId, {
          subscriptionId: subscription.id,
          timestamp: formatTimestamp(now),
        }),
      });
    }
    effects.push({
      kind: "activate",
      subscription,
      start: { epoch: "", base: 0, replay: [], end: 0 },
    });
    return { state, effects };
  }
  const recovered = recover && read.recovered && since !== null;
  if (requestId !== undefined) {
    const answer = {
      subscriptionId: subscription.id,
      timestamp: formatTimestamp(now),
      position: formatPosition(read.position),
    };
    effects.push({
      kind: "reply",
      frame: resultFrame(
        requestId,
        recover ? { ...answer, recovered } : answer,
      ),
    });
  }
  const start: SubscriptionStart = recovered
    ? {
      epoch: since.epoch,
      base: since.offset,
      replay: read.messages,
      end: read.position.offset,
    }
    : {
      epoch: read.position.epoch,
      base: read.position.offset,
      replay: [],
      end: read.position.offset,
    };
  effects.push({ kind: "activate", subscription, start });
  return { state, effects };
}

/** The subscribe could not be had: the subscription ends before it began, and the client hears why. */
function endSubscription(
  state: ConnectionState,
  subscription: Subscription,
  requestId: number | undefined,
  error: ProtocolError,
): ConnectionStep {
  return endFailedSubscription(
    state,
    subscription,
    (without) => refuse(without, requestId, error),
  );
}

/** Answers `requestId` with a result already serialised (spliced, never parsed again). */
function replyJson(
  state: ConnectionState,
  requestId: number,
  resultJson: string,
): ConnectionStep {
  return {
    state,
    effects: [{ kind: "reply", frame: { requestId, resultJson } }],
  };
}

function close(
  state: ConnectionState,
  code: number,
  reason: string,
): ConnectionStep {
  return { state, effects: [{ kind: "close", code, reason }] };
}
