/**
 * The client's core, driven directly: seq, gaps, recovery, resets, backoff
 * and close codes, without a socket or a clock.
 */

import assert from "node:assert/strict";
import { step } from "../../src/client/core.ts";
import {
  type BackoffOptions,
  type ClientCommand,
  type ClientEvent,
  type ClientState,
  INITIAL_STATE,
} from "../../src/client/events.ts";

/** A subscription asking for no presence notifications. */
const NO_WISHES = { joinLeave: false, occupancy: false };

const OPTIONS: BackoffOptions = {
  initialBackoffMs: 500,
  maxBackoffMs: 30_000,
  minBackoffMs: 100,
};

/** Runs events in order; returns the final state and every command. */
function run(state: ClientState, ...events: ClientEvent[]) {
  const commands: ClientCommand[] = [];
  for (const event of events) {
    const next = step(state, event, OPTIONS);
    state = next.state;
    commands.push(...next.commands);
  }
  return { state, commands };
}

function broadcast(seq: number, id = `${seq}-0`): ClientEvent {
  return {
    kind: "broadcast",
    message: {
      id,
      seq,
      createTime: "2026-01-01T00:00:00.000Z",
      channel: "room1",
      event: "e",
      payload: seq,
    },
  };
}

/** Connected and authenticated, subscribed to nothing yet. */
function connected(): ClientState {
  return run(INITIAL_STATE, { kind: "opened" }, { kind: "authenticated" })
    .state;
}

/** Connected, subscribed to room1 (generation 1), confirmed by the server. */
function live(): ClientState {
  return run(
    INITIAL_STATE,
    { kind: "opened" },
    { kind: "authenticated" },
    { kind: "subscribeAsked", channel: "room1", generation: 1 },
    {
      kind: "subscribed",
      channel: "room1",
      generation: 1,
      recovered: undefined,
      position: "ep-0",
    },
  ).state;
}

/** The link drops, and the client connects and authenticates again. */
const RECONNECT: readonly ClientEvent[] = [
  { kind: "closed", code: 1006, jitter: 0 },
  { kind: "reconnectDue" },
  { kind: "opened" },
  { kind: "authenticated" },
];

const kinds = (commands: readonly ClientCommand[]) =>
  commands.map((command) => command.kind);

Deno.test("open → authenticate → connected", () => {
  const { state, commands } = run(
    INITIAL_STATE,
    { kind: "opened" },
    { kind: "authenticated" },
  );
  assert.equal(state.phase, "connected");
  assert.deepEqual(commands, [
    { kind: "authenticate" },
    { kind: "phase", phase: "connected" },
  ]);
});

Deno.test("a first subscribe: ready, no reset, and the position the server gave is where it recovers from", () => {
  const { state, commands } = run(
    connected(),
    { kind: "subscribeAsked", channel: "room1", generation: 1 },
    {
      kind: "subscribed",
      channel: "room1",
      generation: 1,
      recovered: undefined,
      position: "ep-7",
    },
  );
  assert.deepEqual(commands, [
    {
      kind: "subscribe",
      channel: "room1",
      generation: 1,
      since: undefined,
      unsubscribeFirst: false,
      wishes: NO_WISHES,
    },
    { kind: "ready", channel: "room1", generation: 1 },
  ]);
  assert.equal(state.channels.get("room1")?.since, "ep-7");
});

Deno.test("a reconnect before any message recovers from the position: no reset", () => {
  const reconnected = run(
    live(),
    ...RECONNECT,
  );
  assert.deepEqual(reconnected.commands.at(-1), {
    kind: "subscribe",
    channel: "room1",
    generation: 1,
    since: "ep-0",
    unsubscribeFirst: false,
    wishes: NO_WISHES,
  });
  const recovered = run(reconnected.state, {
    kind: "subscribed",
    channel: "room1",
    generation: 1,
    recovered: true,
    position: "ep-3",
  });
  assert.deepEqual(kinds(recovered.commands), ["ready"]);
  // The replay is still to come: since stays until it moves it on.
  assert.equal(recovered.state.channels.get("room1")?.since, "ep-0");
});

Deno.test("in-order messages are delivered once; duplicates are dropped", () => {
  const { state, commands } = run(
    live(),
    broadcast(1),
    broadcast(2),
    broadcast(2),
    broadcast(1),
  );
  assert.deepEqual(kinds(commands), ["deliver", "deliver"]);
  assert.equal(state.channels.get("room1")?.since, "2-0");
});

Deno.test("a seq gap resubscribes with since = the last delivered id, after unsubscribing", () => {
  const { state, commands } = run(live(), broadcast(1), broadcast(3));
  assert.deepEqual(commands.at(-1), {
    kind: "subscribe",
    channel: "room1",
    generation: 1,
    since: "1-0",
    unsubscribeFirst: true,
    wishes: NO_WISHES,
  });
  // Nothing more is delivered until the server confirms the recovery.
  assert.deepEqual(run(state, broadcast(4)).commands, []);
  const recovered = run(
    state,
    {
      kind: "subscribed",
      channel: "room1",
      generation: 1,
      recovered: true,
      position: "2-0",
    },
    broadcast(1, "2-0"),
  );
  assert.deepEqual(kinds(recovered.commands), ["ready", "deliver"]);
});

Deno.test("recovered: false calls onReset; a reconnect resubscribes with since", () => {
  const reconnected = run(
    live(),
    broadcast(1),
    ...RECONNECT,
  );
  assert.deepEqual(reconnected.commands.at(-1), {
    kind: "subscribe",
    channel: "room1",
    generation: 1,
    since: "1-0",
    unsubscribeFirst: false,
    wishes: NO_WISHES,
  });
  const lost = run(reconnected.state, {
    kind: "subscribed",
    channel: "room1",
    generation: 1,
    recovered: false,
    position: "ep-9",
  });
  assert.deepEqual(kinds(lost.commands), ["ready", "reset"]);
  // Everything after the server's position reaches us from here on.
  assert.equal(lost.state.channels.get("room1")?.since, "ep-9");
});

Deno.test("a confirmed subscription without a position (a server without positions) resets on reconnect", () => {
  const { commands } = run(
    INITIAL_STATE,
    { kind: "opened" },
    { kind: "authenticated" },
    { kind: "subscribeAsked", channel: "room1", generation: 1 },
    {
      kind: "subscribed",
      channel: "room1",
      generation: 1,
      recovered: undefined,
      position: undefined,
    },
    ...RECONNECT,
    {
      kind: "subscribed",
      channel: "room1",
      generation: 1,
      recovered: undefined,
      position: undefined,
    },
  );
  assert.ok(kinds(commands).includes("reset"));
});

Deno.test("a subscribe the server could not serve (Internal) is retried with backoff; other refusals end it", () => {
  const refused = (code: string, state = live()) =>
    run(state, {
      kind: "subscribeRefused",
      channel: "room1",
      generation: 1,
      code,
      message: "m",
      jitter: 1,
    });
  const internal = refused("Internal");
  assert.deepEqual(internal.commands, [{
    kind: "retrySubscribe",
    channel: "room1",
    generation: 1,
    delayMs: 500,
  }]);
  assert.deepEqual(
    refused("Internal", internal.state).commands.at(-1),
    { kind: "retrySubscribe", channel: "room1", generation: 1, delayMs: 1000 },
    "the ceiling doubles while it keeps failing",
  );
  // Not live (a gap or a reconnect resubscribes it): the retry subscribes again, with since.
  const waiting = run(live(), broadcast(2)).state;
  const due = run(refused("Internal", waiting).state, {
    kind: "subscribeRetryDue",
    channel: "room1",
    generation: 1,
  });
  assert.deepEqual(due.commands, [{
    kind: "subscribe",
    channel: "room1",
    generation: 1,
    since: "ep-0",
    unsubscribeFirst: false,
    wishes: NO_WISHES,
  }]);
  const denied = refused("PermissionDenied");
  assert.equal(denied.state.channels.has("room1"), false);
  assert.deepEqual(kinds(denied.commands), ["ready"]);
});

/** The delay of the reconnect a close with `code` schedules. */
function delayAfter(state: ClientState, code: number, jitter: number) {
  const { state: next, commands } = run(state, {
    kind: "closed",
    code,
    jitter,
  });
  const reconnect = commands.find((command) => command.kind === "reconnectIn");
  assert.ok(reconnect?.kind === "reconnectIn");
  return { state: next, delayMs: reconnect.delayMs };
}

/** After `count` failed connects: each closed, each reconnect due. */
function afterFailures(count: number): ClientState {
  let state = INITIAL_STATE;
  for (let i = 0; i < count; i++) {
    state = run(delayAfter(state, 1006, 1).state, { kind: "reconnectDue" })
      .state;
  }
  return state;
}

Deno.test("backoff: full jitter above a floor, under a doubling, capped ceiling", () => {
  let state = INITIAL_STATE;
  const delays: number[] = [];
  for (let i = 0; i < 8; i++) {
    const next = delayAfter(state, 1006, 1);
    delays.push(next.delayMs);
    state = run(next.state, { kind: "reconnectDue" }).state;
  }
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  // Full jitter, but never below the floor: no tight loop.
  assert.equal(delayAfter(state, 1006, 0).delayMs, 100);
});

Deno.test("backoff: a successful connect and auth starts it over", () => {
  // Five failed attempts: the next ceiling is 16 s. Then a connect and auth.
  const state = run(afterFailures(5), { kind: "opened" }, {
    kind: "authenticated",
  }).state;
  assert.equal(delayAfter(state, 1006, 1).delayMs, 500);
});

Deno.test("backoff: a slow consumer's 1013 does not start it over", () => {
  let state = run(afterFailures(3), { kind: "opened" }, {
    kind: "authenticated",
  }).state;
  // Closed as a slow consumer right after: the backoff resumes at 4 s, then grows.
  const first = delayAfter(state, 1013, 1);
  assert.equal(first.delayMs, 4000);
  state = run(first.state, { kind: "reconnectDue" }, { kind: "opened" }, {
    kind: "authenticated",
  }).state;
  assert.equal(delayAfter(state, 1013, 1).delayMs, 8000);
});

Deno.test("after 4008 (not authenticated in time, SPEC §12) the client reconnects with backoff, as after any reconnectable close", () => {
  const { state, commands } = run(live(), {
    kind: "closed",
    code: 4008,
    jitter: 1,
  });
  assert.equal(state.phase, "disconnected");
  assert.equal(kinds(commands).includes("fatal"), false);
  assert.deepEqual(commands.at(-1), { kind: "reconnectIn", delayMs: 500 });
});

Deno.test("after 4001 the client reconnects at once (with a fresh token)", () => {
  const { state, commands } = run(live(), {
    kind: "closed",
    code: 4001,
    jitter: 0.9,
  });
  assert.equal(state.phase, "disconnected");
  assert.deepEqual(commands.at(-1), { kind: "reconnectIn", delayMs: 0 });
  assert.deepEqual(run(state, { kind: "reconnectDue" }).commands, [
    { kind: "phase", phase: "connecting" },
    { kind: "connect" },
  ]);
});

Deno.test("after 1003, 1008 and 1009 the client stops: a bug to fix, no reconnect loop", () => {
  for (const code of [1003, 1008, 1009]) {
    const { state, commands } = run(live(), {
      kind: "closed",
      code,
      jitter: 0,
    });
    assert.equal(state.phase, "closed");
    assert.deepEqual(commands, [
      { kind: "stopTimers" },
      {
        kind: "fatal",
        code,
        why: `closed by the server with ${code}: fix the client`,
      },
      { kind: "phase", phase: "closed" },
    ]);
    assert.deepEqual(run(state, { kind: "reconnectDue" }).commands, []);
  }
});

Deno.test("after 4003 the client stays away and says why: a back-end disconnected it", () => {
  const { state, commands } = run(live(), {
    kind: "closed",
    code: 4003,
    reason: "account suspended",
    jitter: 0,
  });
  assert.equal(state.phase, "closed");
  assert.deepEqual(commands[1], {
    kind: "fatal",
    code: 4003,
    why: "disconnected by the server: account suspended",
  });
  assert.equal(kinds(commands).includes("reconnectIn"), false);
});

Deno.test("a pattern subscription's broadcasts are its own, by their pattern", () => {
  const state = run(
    connected(),
    { kind: "subscribeAsked", channel: "room:*", generation: 1 },
    {
      kind: "subscribed",
      channel: "room:*",
      generation: 1,
      recovered: undefined,
      position: undefined,
    },
  ).state;
  const message = (seq: number, channel: string) => ({
    kind: "broadcast" as const,
    message: {
      id: `e-${seq}`,
      seq,
      createTime: "2026-01-01T00:00:00.000Z",
      channel,
      pattern: "room:*",
      event: "e",
      payload: seq,
    },
  });
  const { commands } = run(state, message(1, "room:a"), message(2, "room:b"));
  assert.deepEqual(kinds(commands), ["deliver", "deliver"]);
  // A gap: resubscribed, without since (a pattern has none).
  const gap = run(state, message(1, "room:a"), message(3, "room:b"));
  assert.deepEqual(gap.commands.at(-1), {
    kind: "subscribe",
    channel: "room:*",
    generation: 1,
    since: undefined,
    unsubscribeFirst: true,
    wishes: NO_WISHES,
  });
});

Deno.test("1001, 1011, 1013 reconnect with backoff", () => {
  for (const code of [1001, 1011, 1013]) {
    const { commands } = run(live(), { kind: "closed", code, jitter: 0.5 });
    assert.deepEqual(commands.at(-1), { kind: "reconnectIn", delayMs: 300 });
  }
});

Deno.test("a refused token closes to back off; a failed refresh keeps the connection", () => {
  const connecting = run(INITIAL_STATE, { kind: "opened" }, {
    kind: "authFailed",
  });
  assert.deepEqual(connecting.commands.at(-1), {
    kind: "closeSocket",
    code: 1000,
  });
  const refresh = run(live(), { kind: "tokenExpiring" }, {
    kind: "authFailed",
  });
  assert.deepEqual(refresh.commands, [{ kind: "authenticate" }]);
  assert.equal(refresh.state.phase, "connected");
});

Deno.test("a refused subscribe ends it; answers of replaced subscriptions are ignored", () => {
  const refused = run(
    connected(),
    { kind: "subscribeAsked", channel: "room9", generation: 1 },
    {
      kind: "subscribeRefused",
      channel: "room9",
      generation: 1,
      code: "PermissionDenied",
      message: "no",
      jitter: 0,
    },
  );
  assert.equal(refused.state.channels.size, 0);
  assert.deepEqual(refused.commands.at(-1), {
    kind: "ready",
    channel: "room9",
    generation: 1,
    error: { code: "PermissionDenied", message: "no" },
  });
  const replaced = run(
    live(),
    { kind: "subscribeAsked", channel: "room1", generation: 2 },
    {
      kind: "subscribed",
      channel: "room1",
      generation: 1,
      recovered: undefined,
      position: "ep-0",
    },
  );
  assert.equal(replaced.state.channels.get("room1")?.live, false);
});

Deno.test("subscribing again to a channel replaces the subscription: the server's ends first", () => {
  const { state, commands } = run(live(), {
    kind: "subscribeAsked",
    channel: "room1",
    generation: 2,
  });
  assert.deepEqual(commands, [{
    kind: "subscribe",
    channel: "room1",
    generation: 2,
    since: undefined,
    unsubscribeFirst: true,
    wishes: NO_WISHES,
  }]);
  assert.equal(state.channels.get("room1")?.generation, 2);
});

Deno.test("unsubscribe: told to the server while connected; the server's own ends the channel", () => {
  const asked = run(live(), {
    kind: "unsubscribeAsked",
    channel: "room1",
    generation: 1,
  });
  assert.deepEqual(asked.commands, [{ kind: "unsubscribe", channel: "room1" }]);
  const ended = run(live(), { kind: "unsubscribed", channel: "room1" });
  assert.deepEqual(ended.commands, [{ kind: "ended", channel: "room1" }]);
  assert.equal(ended.state.channels.size, 0);
});

Deno.test("close: timers stop, the socket closes, and nothing happens after", () => {
  const { state, commands } = run(live(), { kind: "closeAsked" });
  assert.deepEqual(commands, [
    { kind: "stopTimers" },
    { kind: "phase", phase: "closed" },
    { kind: "closeSocket", code: 1000 },
  ]);
  assert.deepEqual(
    run(state, { kind: "closed", code: 1000, jitter: 0 }, broadcast(1))
      .commands,
    [],
  );
});

Deno.test("presence: the subscribe asks for what the application listens to; notices only while live on this connection", () => {
  const wishes = { joinLeave: true, occupancy: false };
  const { state, commands } = run(
    connected(),
    { kind: "subscribeAsked", channel: "room1", generation: 1, wishes },
  );
  assert.deepEqual(commands.at(-1), {
    kind: "subscribe",
    channel: "room1",
    generation: 1,
    since: undefined,
    unsubscribeFirst: false,
    wishes,
  });
  const notice = {
    kind: "join" as const,
    event: { channel: "room1", user: "bob" },
  };
  // Not yet confirmed: a notice for it is not news yet.
  assert.deepEqual(run(state, { kind: "presence", notice }).commands, []);
  assert.deepEqual(run(live(), { kind: "presence", notice }).commands, [
    { kind: "presence", notice },
  ]);
  // Disconnected: whatever still arrives from the old connection is dropped.
  const away = run(live(), { kind: "closed", code: 1006, jitter: 0 }).state;
  assert.deepEqual(run(away, { kind: "presence", notice }).commands, []);
});
