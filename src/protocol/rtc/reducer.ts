/**
 * The Real-time Communication Service protocol (SPEC §11, document
 * `002`), as a pure reducer over the same core effects as the native one:
 * `(state, input, now) → { state, effects }`. It translates frames; delivery,
 * history, presence, limits and auth are the core's.
 *
 * A request that needs effects (a subscribe, a publish, the back-end) is
 * numbered, kept in `pending`, and answered when the effects' outcomes come
 * back as inputs (`replies.ts`): an `Ack` echoes the client's `id` as
 * `message_id`. Subscriptions are in `subscriptions.ts`, publishes and
 * back-end calls in `messages.ts`.
 *
 * @module
 */

import { onOversizedFrame } from "../closed.ts";
import { CloseCode } from "../close_codes.ts";
import type { Input } from "../effects.ts";
import { engineError } from "../engine_failure.ts";
import { onBacklog, onLagging } from "../outbound.ts";
import { quote } from "../publication.ts";
import { admitted as admittedFrame } from "../rate_limit.ts";
import { unchanged } from "../replies.ts";
import { decodeParams } from "../schema.ts";
import { onClosedTracking } from "../pending.ts";
import { onTimer } from "../timers.ts";
import { readBinary } from "./binary.ts";
import { decodeEnvelope, type Envelope, PingData } from "./envelope.ts";
import {
  errorFrame,
  failureStatus,
  frame,
  statusFrame,
  unixSeconds,
} from "./frames.ts";
import {
  broadcast,
  custom,
  directMessage,
  onPublished,
  onTargetRead,
  onTriggered,
} from "./messages.ts";
import { answer, idOf, refuse, reply, type RtcStep, send } from "./replies.ts";
import type { RtcState } from "./state.ts";
import { TOKEN_NOTICES } from "./token_notices.ts";
import {
  onSubscribed,
  onSubscribeFailed,
  subscribe,
  subscribePersonal,
  unsubscribe,
} from "./subscriptions.ts";

export type { RtcStep } from "./replies.ts";
export { BROADCAST_EVENT, DIRECT_MESSAGE_EVENT } from "./messages.ts";

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
        return onOversizedFrame(state);
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
      return onOversizedFrame(state);
    case "timer":
      return onTimer(state, input.name, now, TOKEN_NOTICES);
    case "subscribed":
      return onSubscribed(state, input, now);
    case "subscribeFailed":
      return onSubscribeFailed(state, input, {
        code: failureStatus(input.failure),
        message: engineError("subscribe", input.failure).message,
      }, now);
    case "channelFull":
      return onSubscribeFailed(state, input, {
        code: 429,
        message: `at most ${input.limit} subscribers`,
      }, now);
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
          engineError(input.operation, input.failure).message,
          idOf(pending),
        ));
    case "triggered":
      return onTriggered(state, input.requestId, input.responseJson);
    case "triggerFailed":
      return answer(state, input.requestId, (pending) =>
        errorFrame(
          503,
          `the back-end failed: ${input.reason}`,
          idOf(pending),
        ));
    case "closed":
      return onClosedTracking(state);
    case "tokenVerified":
    case "historyRead":
      // Never asked for: this protocol authenticates on the upgrade and has no history request.
      return unchanged(state);
  }
}

/**
 * The socket is open: the user's personal channel is subscribed, so its
 * direct messages arrive without asking. The welcome follows once that
 * subscription stands (a client that has it can be reached), and the
 * token's timers start with it, so no warning comes before the welcome.
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
  return subscribePersonal(state, auth, now);
}

/** Every frame spends from the rate budget; over it, `Error 429`. */
function admitted(
  previous: RtcState,
  now: number,
  next: (state: RtcState) => RtcStep,
): RtcStep {
  return admittedFrame(previous, now, {
    refused: (state) =>
      send(
        errorFrame(
          429,
          `rate limit exceeded: at most ${state.limits.rateLimit} messages per second`,
          undefined,
        ),
      ),
    next,
  });
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
