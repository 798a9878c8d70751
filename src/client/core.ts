/**
 * The client's decisions as a pure function: `step(state, event, options)`
 * returns the next state and the commands the shell carries out. It owns
 * `seq` and gap detection, recovery with `since`, resets, the reconnect
 * backoff and what each close code means; the shell (`mod.ts`) only owns the
 * socket, the timers and the application's callbacks. Randomness (backoff
 * jitter) comes in with the event, so every decision can be tested without
 * a socket or a clock.
 *
 * @module
 */

import { CloseCode } from "../protocol/close_codes.ts";
import type { BroadcastParams } from "../protocol/frames.ts";
import type {
  BackoffOptions,
  ChannelRecord,
  ClientCommand,
  ClientEvent,
  ClientState,
  ClientStep,
  PresenceWishes,
} from "./events.ts";

/** A subscription that asks for no presence notifications. */
const NO_WISHES: PresenceWishes = { joinLeave: false, occupancy: false };

/** Close codes after which reconnecting cannot help: the client has a bug (SPEC §3). */
const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.UnsupportedData,
  CloseCode.PolicyViolation,
  CloseCode.MessageTooBig,
]);

/**
 * Decides what one event does to the client.
 *
 * @example
 * ```ts
 * import { step } from "./core.ts";
 * import { INITIAL_STATE } from "./events.ts";
 *
 * const options = { initialBackoffMs: 500, maxBackoffMs: 30_000, minBackoffMs: 100 };
 * const { commands } = step(INITIAL_STATE, { kind: "closed", code: 1006, jitter: 0.5 }, options);
 * // [..., { kind: "phase", phase: "disconnected" }, { kind: "reconnectIn", delayMs: 300 }]
 * ```
 */
export function step(
  state: ClientState,
  event: ClientEvent,
  options: BackoffOptions,
): ClientStep {
  if (state.phase === "closed") return { state, commands: [] };
  switch (event.kind) {
    case "opened":
      return { state, commands: [{ kind: "authenticate" }] };
    case "authenticated":
      return onAuthenticated(state);
    case "authFailed":
      // A failed refresh leaves the connection as it is, until the server
      // closes it with 4001. A refused token will not get better by
      // retrying at once: close, and back off.
      return {
        state,
        commands: state.phase === "connected"
          ? []
          : [{ kind: "closeSocket", code: CloseCode.Normal }],
      };
    case "tokenExpiring":
      return { state, commands: [{ kind: "authenticate" }] };
    case "subscribeAsked":
      return onSubscribeAsked(
        state,
        event.channel,
        event.generation,
        event.wishes ?? NO_WISHES,
      );
    case "presence": {
      // Only for a subscription confirmed on this connection: nothing stale is news.
      const record = state.channels.get(event.notice.event.channel);
      return {
        state,
        commands: record?.live === true
          ? [{ kind: "presence", notice: event.notice }]
          : [],
      };
    }
    case "unsubscribeAsked": {
      if (current(state, event.channel, event.generation) === undefined) {
        return { state, commands: [] };
      }
      const channels = new Map(state.channels);
      channels.delete(event.channel);
      return {
        state: { ...state, channels },
        commands: state.phase === "connected"
          ? [{ kind: "unsubscribe", channel: event.channel }]
          : [],
      };
    }
    case "subscribed":
      return onSubscribed(state, event);
    case "subscribeRefused":
      return onSubscribeRefused(state, event, options);
    case "subscribeRetryDue": {
      const record = current(state, event.channel, event.generation);
      if (record === undefined || record.live || state.phase !== "connected") {
        return { state, commands: [] };
      }
      return { state, commands: [resubscribe(event.channel, record, false)] };
    }
    case "broadcast":
      return onBroadcast(state, event.message);
    case "unsubscribed": {
      if (!state.channels.has(event.channel)) return { state, commands: [] };
      const channels = new Map(state.channels);
      channels.delete(event.channel);
      return {
        state: { ...state, channels },
        commands: [{ kind: "ended", channel: event.channel }],
      };
    }
    case "closed":
      return onClosed(state, event, options);
    case "reconnectDue":
      return {
        state: { ...state, phase: "connecting" },
        commands: [{ kind: "phase", phase: "connecting" }, { kind: "connect" }],
      };
    case "connectFailed":
      return {
        state: { ...state, phase: "closed" },
        commands: [{ kind: "stopTimers" }, { kind: "phase", phase: "closed" }],
      };
    case "closeAsked":
      return {
        state: { ...state, phase: "closed" },
        commands: [
          { kind: "stopTimers" },
          { kind: "phase", phase: "closed" },
          { kind: "closeSocket", code: CloseCode.Normal },
        ],
      };
  }
}

/** The record of `channel` if it is still subscription `generation`. */
function current(
  state: ClientState,
  channel: string,
  generation: number,
): ChannelRecord | undefined {
  const record = state.channels.get(channel);
  return record?.generation === generation ? record : undefined;
}

function withRecord(
  state: ClientState,
  channel: string,
  record: ChannelRecord,
): ClientState {
  const channels = new Map(state.channels);
  channels.set(channel, record);
  return { ...state, channels };
}

/** (Re)subscribes `record`: with `since` once it has a position, so nothing is missed. */
function resubscribe(
  channel: string,
  record: ChannelRecord,
  unsubscribeFirst: boolean,
): ClientCommand {
  return {
    kind: "subscribe",
    channel,
    generation: record.generation,
    since: record.since,
    unsubscribeFirst,
    wishes: record.wishes,
  };
}

function onAuthenticated(state: ClientState): ClientStep {
  // A refresh in place (after tokenExpiring) changes nothing.
  if (state.phase === "connected") return { state, commands: [] };
  const channels = new Map<string, ChannelRecord>();
  const commands: ClientCommand[] = [{ kind: "phase", phase: "connected" }];
  for (const [channel, record] of state.channels) {
    const waiting = { ...record, live: false };
    channels.set(channel, waiting);
    commands.push(resubscribe(channel, waiting, false));
  }
  // Connected and accepted: the backoff starts over (as centrifuge-js,
  // socket.io-client and Ably do), so a flapping network is rejoined fast.
  return {
    state: {
      ...state,
      phase: "connected",
      attempt: 0,
      attemptBeforeAuth: state.attempt,
      channels,
    },
    commands,
  };
}

function onSubscribeAsked(
  state: ClientState,
  channel: string,
  generation: number,
  wishes: PresenceWishes,
): ClientStep {
  // Subscribing again replaces the earlier subscription, position included;
  // the server's is ended first, or it would answer AlreadyExists.
  const replacing = state.channels.has(channel);
  const record: ChannelRecord = {
    generation,
    since: undefined,
    lastSeq: 0,
    live: false,
    confirmed: false,
    retries: 0,
    wishes,
  };
  return {
    state: withRecord(state, channel, record),
    commands: state.phase === "connected"
      ? [resubscribe(channel, record, replacing)]
      : [],
  };
}

function onSubscribed(
  state: ClientState,
  event: Extract<ClientEvent, { kind: "subscribed" }>,
): ClientStep {
  const { channel, generation } = event;
  const record = current(state, channel, generation);
  if (record === undefined) return { state, commands: [] };
  // Lost: the server could not replay from our position, or we had none to give it.
  const lost = record.since !== undefined
    ? event.recovered === false
    : record.confirmed;
  const commands: ClientCommand[] = [{ kind: "ready", channel, generation }];
  if (lost) commands.push({ kind: "reset", channel });
  return {
    state: withRecord(state, channel, {
      ...record,
      // Recovered: the replay follows, and moves `since` on as it arrives.
      // Otherwise everything from the server's position on reaches us.
      since: event.recovered === true
        ? record.since
        : event.position ?? record.since,
      lastSeq: 0,
      live: true,
      confirmed: true,
      retries: 0,
    }),
    commands,
  };
}

/**
 * A refused subscribe ends the subscription, unless the server could not
 * serve it for now (`Internal`: its engine is unavailable): then it is
 * retried with backoff, while messages it misses meanwhile stay recoverable.
 */
function onSubscribeRefused(
  state: ClientState,
  event: Extract<ClientEvent, { kind: "subscribeRefused" }>,
  options: BackoffOptions,
): ClientStep {
  const { channel, generation, code, message } = event;
  const record = current(state, channel, generation);
  if (record === undefined) return { state, commands: [] };
  if (code === "Internal") {
    return {
      state: withRecord(state, channel, {
        ...record,
        retries: record.retries + 1,
      }),
      commands: [{
        kind: "retrySubscribe",
        channel,
        generation,
        delayMs: backoffDelay(record.retries, event.jitter, options),
      }],
    };
  }
  const channels = new Map(state.channels);
  channels.delete(channel);
  return {
    state: { ...state, channels },
    commands: [{
      kind: "ready",
      channel,
      generation,
      error: { code, message },
    }],
  };
}

/**
 * Full jitter above the floor, up to the capped exponential ceiling of
 * `attempt`: never a tight loop, and retries spread out.
 */
function backoffDelay(
  attempt: number,
  jitter: number,
  options: BackoffOptions,
): number {
  const ceiling = Math.max(
    options.minBackoffMs,
    Math.min(options.maxBackoffMs, options.initialBackoffMs * 2 ** attempt),
  );
  return options.minBackoffMs + jitter * (ceiling - options.minBackoffMs);
}

/** Delivers in step; a gap means messages were missed: recover them with `since`. */
function onBroadcast(state: ClientState, message: BroadcastParams): ClientStep {
  // A pattern subscription's broadcasts name their pattern.
  const key = message.pattern ?? message.channel;
  const record = state.channels.get(key);
  if (record === undefined || !record.live || message.seq <= record.lastSeq) {
    return { state, commands: [] };
  }
  if (message.seq !== record.lastSeq + 1) {
    const waiting = { ...record, live: false };
    return {
      state: withRecord(state, key, waiting),
      commands: [resubscribe(key, waiting, true)],
    };
  }
  return {
    state: withRecord(state, key, {
      ...record,
      lastSeq: message.seq,
      // A pattern has no history to recover from: it never sends `since`.
      since: message.pattern === undefined ? message.id : record.since,
    }),
    commands: [{ kind: "deliver", message }],
  };
}

function onClosed(
  state: ClientState,
  event: Extract<ClientEvent, { kind: "closed" }>,
  options: BackoffOptions,
): ClientStep {
  const { code, jitter } = event;
  const channels = new Map<string, ChannelRecord>();
  for (const [channel, record] of state.channels) {
    channels.set(channel, { ...record, live: false });
  }
  const why = code === CloseCode.DisconnectedByServer
    ? `disconnected by the server: ${event.reason || "no reason given"}`
    : FATAL_CLOSE_CODES.has(code)
    ? `closed by the server with ${code}: fix the client`
    : undefined;
  if (why !== undefined) {
    // A bug to fix, or a back-end that wants this user gone: no reconnect loop.
    return {
      state: { ...state, phase: "closed", channels },
      commands: [
        { kind: "stopTimers" },
        { kind: "fatal", code, why },
        { kind: "phase", phase: "closed" },
      ],
    };
  }
  // A slow consumer (1013) resumes the backoff it had before its last
  // `auth`: the server asked it to back off, reconnecting fast would not.
  const attempt = code === CloseCode.TryAgainLater
    ? Math.max(state.attempt, state.attemptBeforeAuth)
    : state.attempt;
  // After 4001 the client reconnects at once, with a fresh token.
  const delayMs = code === CloseCode.TokenExpired
    ? 0
    : backoffDelay(attempt, jitter, options);
  return {
    state: {
      ...state,
      phase: "disconnected",
      attempt: attempt + 1,
      attemptBeforeAuth: attempt + 1,
      channels,
    },
    commands: [
      { kind: "stopTimers" },
      { kind: "phase", phase: "disconnected" },
      { kind: "reconnectIn", delayMs },
    ],
  };
}
