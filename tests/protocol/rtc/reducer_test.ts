/**
 * The Real-time Communication Service reducer, driven directly: every frame
 * it decides, the order of its checks, and what it makes of the outcomes of
 * the core's effects. The integration tests (`tests/http/rtc_test.ts`)
 * cover the same against a real server.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import type { Authentication } from "../../../src/protocol/authentication.ts";
import type { Effect, Input } from "../../../src/protocol/effects.ts";
import type { Message } from "../../../src/protocol/message.ts";
import {
  DEFAULT_CHANNEL_POLICY,
  Namespaces,
} from "../../../src/protocol/namespaces.ts";
import { reduce, type RtcStep } from "../../../src/protocol/rtc/reducer.ts";
import { type RtcState, rtcState } from "../../../src/protocol/rtc/state.ts";
import type { Subscription } from "../../../src/protocol/state.ts";

const NOW = Date.parse("2026-01-02T03:04:05.678Z");

const LIMITS = {
  maxSubscriptions: 3,
  maxMessageBytes: 1024,
  rateLimit: 1000,
  outboundBufferBytes: 4096,
  presenceMaxMembers: 10,
  namespaces: new Namespaces(DEFAULT_CHANNEL_POLICY, {
    quiet: { presence: false },
    readonly: { clientPublish: false },
  }),
  trigger: true,
};

const AUTH: Authentication = {
  subject: "alice",
  channels: new Set(["chat:general", "quiet:room", "readonly:news"]),
  grants: ["updates:*", "room:>"],
  scopes: new Set(["subscribe", "publish", "direct", "trigger"]),
  expiresAt: NOW + 3_600_000,
};

function fresh(auth: Authentication = AUTH): RtcState {
  return rtcState("c1", LIMITS, auth);
}

/** Runs inputs in order; the last step. */
function run(state: RtcState, ...inputs: Input[]): RtcStep {
  let step: RtcStep = { state, effects: [] };
  for (const input of inputs) step = reduce(step.state, input, NOW);
  return step;
}

function text(type: string, data?: unknown, id?: string): Input {
  return {
    kind: "frame",
    text: JSON.stringify(
      id === undefined ? { type, data } : { type, data, id },
    ),
  };
}

/** The frames sent, parsed. */
// deno-lint-ignore no-explicit-any -- frames are checked field by field
function sent(effects: readonly Effect[]): { type: string; data: any }[] {
  return effects.flatMap((effect) =>
    effect.kind === "send" ? [JSON.parse(effect.text)] : []
  );
}

function ofKind<K extends Effect["kind"]>(
  effects: readonly Effect[],
  kind: K,
): Extract<Effect, { kind: K }>[] {
  return effects.filter((effect): effect is Extract<Effect, { kind: K }> =>
    effect.kind === kind
  );
}

const READ = {
  position: { epoch: "ep", offset: 4 },
  messages: [],
  recovered: false,
};

/** Feeds `subscribed` for every subscribe effect of `step`; the last step. */
function started(step: RtcStep): RtcStep {
  let last = step;
  const effects: Effect[] = [];
  for (const effect of ofKind(step.effects, "subscribe")) {
    last = reduce(last.state, {
      kind: "subscribed",
      subscription: effect.subscription,
      requestId: effect.requestId,
      recover: false,
      since: null,
      read: effect.subscription.pattern === true ? null : READ,
    }, NOW);
    effects.push(...last.effects);
  }
  return { state: last.state, effects };
}

/** A connection whose personal channel is subscribed and welcome sent. */
function welcomed(auth: Authentication = AUTH): RtcState {
  return started(reduce(fresh(auth), { kind: "opened" }, NOW)).state;
}

Deno.test("rtc reducer: opening subscribes the personal channel; the welcome waits for it, its time from now", () => {
  const opened = reduce(fresh(), { kind: "opened" }, NOW);
  assert.deepEqual(sent(opened.effects), [], "no welcome yet");
  const [subscribe] = ofKind(opened.effects, "subscribe");
  assert.deepEqual(subscribe?.subscription, {
    id: "c1.1",
    channel: "#alice",
    member: { user: "alice", connectionId: "c1" },
  });
  const welcome = started(opened);
  assert.deepEqual(
    ofKind(welcome.effects, "timer").map((timer) => timer.name),
    ["tokenExpiring", "tokenExpired"],
    "the token's timers start with the welcome",
  );
  assert.deepEqual(ofKind(welcome.effects, "activate").length, 1);
  assert.deepEqual(sent(welcome.effects), [{
    type: "Status",
    data: {
      status: "connected",
      details: {
        connection_id: "c1",
        server_time: Math.floor(NOW / 1000),
        protocol_version: "1.0",
        features: ["broadcast", "direct_message", "presence", "history"],
      },
    },
  }]);
});

Deno.test("rtc reducer: a token already within 60 s of exp is warned about right after the welcome, never before", () => {
  const soon = { ...AUTH, expiresAt: NOW + 30_000 };
  const opened = reduce(fresh(soon), { kind: "opened" }, NOW);
  assert.deepEqual(sent(opened.effects), []);
  const types = sent(started(opened).effects).map((frame) =>
    `${frame.type} ${frame.data.status}`
  );
  assert.deepEqual(types, ["Status connected", "AuthStatus token_expiring"]);
});

Deno.test("rtc reducer: when direct messages cannot be subscribed, Error 503 and close 1013 (try again)", () => {
  const opened = reduce(fresh(), { kind: "opened" }, NOW);
  const [subscribe] = ofKind(opened.effects, "subscribe");
  assert.ok(subscribe !== undefined);
  const failed = run(opened.state, {
    kind: "subscribeFailed",
    subscription: subscribe.subscription,
    requestId: subscribe.requestId,
    failure: "unavailable",
  });
  assert.equal(sent(failed.effects)[0]?.data.code, 503);
  assert.deepEqual(ofKind(failed.effects, "close")[0]?.code, 1013);
});

Deno.test("rtc reducer: Subscribe checks every topic before subscribing any: 400, then 403, then 429", () => {
  const state = welcomed();
  const check = (topics: unknown, code: number, pattern: RegExp) => {
    const step = run(state, text("Subscribe", { topics }, "s"));
    assert.deepEqual(ofKind(step.effects, "subscribe"), [], String(topics));
    const [error] = sent(step.effects);
    assert.equal(error?.type, "Error");
    assert.equal(error.data.code, code, String(topics));
    assert.match(error.data.message, pattern);
    assert.equal(error.data.details.message_id, "s");
    assert.equal(step.state.subscriptions.size, 1, "nothing subscribed");
  };
  check(["chat.general", "bad..topic"], 400, /invalid topic "bad\.\.topic"/);
  check(["chat.general", "#bob"], 400, /invalid topic/);
  check(["chat.general", "secret"], 403, /"secret" is not authorized/);
  check(["chat.general", "updates.a.b"], 403, /not authorized/);
  check(
    ["chat.general", "updates.a", "room.x", "quiet.room"],
    429,
    /at most 3|limit is 3/,
  );
  const scopeless = welcomed({ ...AUTH, scopes: new Set(["publish"]) });
  const [error] = sent(
    run(scopeless, text("Subscribe", { topics: ["chat.general"] })).effects,
  );
  assert.equal(error?.data.code, 403);
  assert.match(error.data.message, /subscribe scope/);
});

Deno.test("rtc reducer: Subscribe makes channel subscriptions with presence and join/leave, patterns without; answered once all have started", () => {
  const step = run(
    welcomed(),
    text("Subscribe", {
      topics: ["chat.general", "updates.*", "quiet.room"],
    }, "s1"),
  );
  const subscriptions = ofKind(step.effects, "subscribe").map((effect) =>
    effect.subscription
  );
  assert.deepEqual(subscriptions, [
    {
      id: "c1.2",
      channel: "chat:general",
      joinLeave: true,
      member: { user: "alice", connectionId: "c1" },
    },
    { id: "c1.3", channel: "updates:*", pattern: true },
    { id: "c1.4", channel: "quiet:room" },
  ]);
  assert.deepEqual(sent(step.effects), [], "not before they have started");
  const answered = started(step);
  assert.deepEqual(sent(answered.effects), [
    {
      type: "Status",
      data: {
        status: "subscribed",
        details: {
          topics: ["chat.general", "updates.*", "quiet.room"],
          active_subscriptions: 3,
        },
      },
    },
    {
      type: "Ack",
      data: {
        message_id: "s1",
        status: "subscribed",
        topics: ["chat.general", "updates.*", "quiet.room"],
        active_subscriptions: 3,
      },
    },
  ]);
  assert.equal(ofKind(answered.effects, "activate").length, 3);
});

Deno.test("rtc reducer: a topic that cannot start (full, engine down) is named in one Error; the rest stand", () => {
  const step = run(
    welcomed(),
    text("Subscribe", { topics: ["chat.general", "room.a"] }, "s"),
  );
  const [first, second] = ofKind(step.effects, "subscribe");
  assert.ok(first !== undefined && second !== undefined);
  const full = run(step.state, {
    kind: "channelFull",
    subscription: first.subscription,
    requestId: first.requestId,
    limit: 5,
  });
  assert.deepEqual(ofKind(full.effects, "unsubscribe").length, 1);
  const done = run(full.state, {
    kind: "subscribed",
    subscription: second.subscription,
    requestId: second.requestId,
    recover: false,
    since: null,
    read: READ,
  });
  const [error, status, ack] = sent(done.effects);
  assert.equal(error?.data.code, 429);
  assert.deepEqual(error?.data.details, {
    message_id: "s",
    topics: ["chat.general"],
  });
  assert.deepEqual(status?.data.details, {
    topics: ["room.a"],
    active_subscriptions: 1,
  });
  assert.equal(ack?.type, "Ack");
  assert.equal(done.state.subscriptions.has("chat:general"), false);
});

Deno.test("rtc reducer: a subscription unsubscribed before it started is removed from the hub when it starts", () => {
  const step = run(welcomed(), text("Subscribe", { topics: ["room.a"] }));
  const [effect] = ofKind(step.effects, "subscribe");
  assert.ok(effect !== undefined);
  const gone = run(step.state, text("Unsubscribe", { topics: ["room.a"] }));
  assert.deepEqual(sent(gone.effects)[0]?.data, {
    status: "unsubscribed",
    details: { topics: ["room.a"], active_subscriptions: 0 },
  });
  const late = run(gone.state, {
    kind: "subscribed",
    subscription: effect.subscription,
    requestId: effect.requestId,
    recover: false,
    since: null,
    read: READ,
  });
  assert.deepEqual(late.effects, [{
    kind: "unsubscribe",
    subscription: effect.subscription,
  }]);
});

const PUBLISHED: Message = {
  id: "ep-5",
  createTime: "2026-01-02T03:04:05.000Z",
  channel: "chat:general",
  event: "Broadcast",
  payloadJson: "1",
  epoch: "ep",
  offset: 5,
};

Deno.test("rtc reducer: Broadcast publishes with event Broadcast, asks for its audience only when it will be acknowledged", () => {
  const state = welcomed();
  const withId = run(
    state,
    text("Broadcast", { topic: "chat.general", payload: { a: 1 } }, "m1"),
  );
  const [publish] = ofKind(withId.effects, "publish");
  assert.deepEqual(publish?.message, {
    channel: "chat:general",
    event: "Broadcast",
    payloadJson: '{"a":1}',
    from: undefined,
  });
  assert.equal(publish?.audience, true);
  const acked = run(withId.state, {
    kind: "published",
    requestId: publish?.requestId,
    message: PUBLISHED,
    recipients: 42,
  });
  assert.deepEqual(sent(acked.effects), [{
    type: "Ack",
    data: { message_id: "m1", status: "delivered", recipients: 42 },
  }]);
  assert.equal(acked.state.pending.size, 0);
  const withoutId = run(
    state,
    text("Broadcast", { topic: "chat.general", payload: 1 }),
  );
  const [quiet] = ofKind(withoutId.effects, "publish");
  assert.equal(quiet?.audience, undefined);
  const done = run(withoutId.state, {
    kind: "published",
    requestId: quiet?.requestId,
    message: PUBLISHED,
  });
  assert.deepEqual(done.effects, []);
  assert.equal(done.state.pending.size, 0, "forgotten all the same");
});

Deno.test("rtc reducer: Broadcast refusals: a pattern or bad topic 400; no scope, no grant, namespace without client publishing 403; oversized payload 400", () => {
  const state = welcomed();
  const codeOf = (data: unknown, auth?: Authentication) =>
    sent(
      run(
        auth === undefined ? state : welcomed(auth),
        text("Broadcast", data, "b"),
      ).effects,
    )[0]
      ?.data.code;
  assert.equal(codeOf({ topic: "updates.*", payload: 1 }), 400);
  assert.equal(codeOf({ topic: "a:b", payload: 1 }), 400);
  assert.equal(codeOf({ topic: "secret", payload: 1 }), 403);
  assert.equal(codeOf({ topic: "readonly.news", payload: 1 }), 403);
  assert.equal(
    codeOf({ topic: "chat.general", payload: 1 }, {
      ...AUTH,
      scopes: new Set(["subscribe"]),
    }),
    403,
  );
  assert.equal(
    codeOf({ topic: "chat.general", payload: "x".repeat(2000) }),
    400,
  );
});

Deno.test("rtc reducer: engine failures are 503 while it is unavailable, 500 otherwise, with the message id", () => {
  const step = run(
    welcomed(),
    text("Broadcast", { topic: "chat.general", payload: 1 }, "m"),
  );
  const [publish] = ofKind(step.effects, "publish");
  for (
    const [failure, code] of [["unavailable", 503], ["failed", 500]] as const
  ) {
    const [error] = sent(
      run(step.state, {
        kind: "engineFailed",
        operation: "publish",
        requestId: publish?.requestId,
        failure,
      }).effects,
    );
    assert.equal(error?.data.code, code);
    assert.equal(error?.data.details.message_id, "m");
  }
});

Deno.test("rtc reducer: DirectMessage goes to the personal channel from its sender; the target's connections answer it, or 404 queued", () => {
  const step = run(
    welcomed(),
    text("DirectMessage", { target_user: "bob", payload: "hi" }, "d1"),
  );
  const [publish] = ofKind(step.effects, "publish");
  assert.deepEqual(publish?.message, {
    channel: "#bob",
    event: "DirectMessage",
    payloadJson: '"hi"',
    from: "alice",
  });
  const published = run(step.state, {
    kind: "published",
    requestId: publish?.requestId,
    message: { ...PUBLISHED, channel: "#bob" },
  });
  const [read] = ofKind(published.effects, "presence");
  assert.deepEqual(read, {
    kind: "presence",
    channel: "#bob",
    requestId: publish?.requestId,
    stats: false,
    max: 10,
  });
  const online = run(published.state, {
    kind: "presenceRead",
    requestId: read?.requestId ?? 0,
    presence: {
      connections: 2,
      users: 1,
      members: [
        { user: "bob", connectionId: "x-1" },
        { user: "bob", connectionId: "x-2" },
      ],
    },
  });
  assert.deepEqual(sent(online.effects)[0]?.data, {
    message_id: "d1",
    status: "delivered",
    delivered_to: ["x-1", "x-2"],
  });
  const offline = run(published.state, {
    kind: "presenceRead",
    requestId: read?.requestId ?? 0,
    presence: { connections: 0, users: 0, members: [] },
  });
  assert.deepEqual(sent(offline.effects)[0], {
    type: "Error",
    data: {
      code: 404,
      message: "User bob not found or not connected",
      details: { message_id: "d1", queued: true },
    },
  });
  const noScope = welcomed({ ...AUTH, scopes: new Set(["publish"]) });
  assert.equal(
    sent(
      run(noScope, text("DirectMessage", { target_user: "bob", payload: 1 }))
        .effects,
    )[0]?.data.code,
    403,
  );
});

Deno.test("rtc reducer: a DirectMessage without an id: no Ack for an online target, the 404 all the same for an offline one", () => {
  const quiet = run(
    welcomed(),
    text("DirectMessage", { target_user: "bob", payload: "hi" }),
  );
  const [publish] = ofKind(quiet.effects, "publish");
  const looked = run(quiet.state, {
    kind: "published",
    requestId: publish?.requestId,
    message: { ...PUBLISHED, channel: "#bob" },
  });
  const [read] = ofKind(looked.effects, "presence");
  assert.ok(read !== undefined);
  const members = [{ user: "bob", connectionId: "x-1" }];
  const online = run(looked.state, {
    kind: "presenceRead",
    requestId: read.requestId,
    presence: { connections: 1, users: 1, members },
  });
  assert.deepEqual(online.effects, []);
  assert.equal(online.state.pending.size, 0);
  const offline = run(looked.state, {
    kind: "presenceRead",
    requestId: read.requestId,
    presence: { connections: 0, users: 0, members: [] },
  });
  assert.deepEqual(sent(offline.effects)[0]?.data, {
    code: 404,
    message: "User bob not found or not connected",
    details: { queued: true },
  });
});

Deno.test("rtc reducer: a token without the subscribe scope subscribes nothing, its own channel included, and is welcomed at once", () => {
  const opened = reduce(
    fresh({ ...AUTH, scopes: new Set(["publish", "direct"]) }),
    { kind: "opened" },
    NOW,
  );
  assert.deepEqual(ofKind(opened.effects, "subscribe"), []);
  assert.equal(sent(opened.effects)[0]?.data.status, "connected");
  assert.equal(opened.state.subscriptions.size, 0);
});

Deno.test("rtc reducer: X- types call the back-end with the trigger scope; its answer is an Ack, or a frame of the type without an id", () => {
  const state = welcomed();
  const step = run(state, text("X-Save", { draft: 1 }, "x1"));
  const [trigger] = ofKind(step.effects, "trigger");
  assert.deepEqual(trigger, {
    kind: "trigger",
    event: "X-Save",
    dataJson: '{"draft":1}',
    requestId: trigger?.requestId,
  });
  const acked = run(step.state, {
    kind: "triggered",
    requestId: trigger?.requestId,
    event: "X-Save",
    responseJson: '{"ok":true}',
  });
  assert.deepEqual(sent(acked.effects)[0], {
    type: "Ack",
    data: { message_id: "x1", status: "delivered", response: { ok: true } },
  });
  const quiet = run(state, text("X-Save", null));
  const [call] = ofKind(quiet.effects, "trigger");
  const answered = run(quiet.state, {
    kind: "triggered",
    requestId: call?.requestId,
    event: "X-Save",
    responseJson: "[1]",
  });
  assert.deepEqual(sent(answered.effects)[0], { type: "X-Save", data: [1] });
  const failed = run(step.state, {
    kind: "triggerFailed",
    requestId: trigger?.requestId,
    reason: "no answer in 5 s",
  });
  assert.equal(sent(failed.effects)[0]?.data.code, 503);
  const noBackEnd = rtcState("c2", { ...LIMITS, trigger: false }, AUTH);
  assert.equal(
    sent(run(noBackEnd, text("X-Save", {}, "x")).effects)[0]?.data.code,
    404,
  );
});

Deno.test("rtc reducer: AuthStatus token_expiring 60 s before exp; at exp plus leeway, Error 401 then close 4001", () => {
  const auth = { ...AUTH, expiresAt: NOW + 120_000 };
  const state = welcomed(auth);
  const warned = reduce(
    state,
    { kind: "timer", name: "tokenExpiring" },
    NOW + 60_000,
  );
  assert.deepEqual(sent(warned.effects), [{
    type: "AuthStatus",
    data: {
      status: "token_expiring",
      expires_at: Math.floor((NOW + 120_000) / 1000),
      refresh_required: true,
    },
  }]);
  const expired = reduce(
    state,
    { kind: "timer", name: "tokenExpired" },
    NOW + 150_000,
  );
  assert.equal(sent(expired.effects)[0]?.data.code, 401);
  assert.equal(ofKind(expired.effects, "close")[0]?.code, 4001);
});

Deno.test("rtc reducer: over the rate, Error 429 and counted; sustained abuse closes 1008", () => {
  let state = rtcState("c1", { ...LIMITS, rateLimit: 2 }, AUTH);
  const codes: number[] = [];
  let closed: number | undefined;
  for (let i = 0; i < 10 && closed === undefined; i++) {
    const step = reduce(state, text("Ping", {}), NOW);
    state = step.state;
    codes.push(sent(step.effects)[0]?.type === "Pong" ? 200 : 429);
    closed = ofKind(step.effects, "close")[0]?.code;
    if (codes.at(-1) === 429) {
      assert.deepEqual(
        ofKind(step.effects, "count")[0]?.counter,
        "rateLimited",
      );
    }
  }
  assert.deepEqual(codes.slice(0, 5), [200, 200, 200, 200, 429]);
  assert.equal(closed, 1008);
});

Deno.test("rtc reducer: frames over the limit close 1009, text or binary; the socket's close ends every subscription", () => {
  const state = welcomed();
  assert.deepEqual(
    ofKind(reduce(state, { kind: "oversizedFrame" }, NOW).effects, "close")[0]
      ?.code,
    1009,
  );
  assert.deepEqual(
    ofKind(
      reduce(state, { kind: "binaryFrame", bytes: new Uint8Array(1025) }, NOW)
        .effects,
      "close",
    )[0]?.code,
    1009,
  );
  const closed = reduce(state, { kind: "closed" }, NOW);
  assert.deepEqual(
    ofKind(closed.effects, "unsubscribe").map((effect) =>
      (effect.subscription as Subscription).channel
    ),
    ["#alice"],
  );
  assert.deepEqual(reduce(closed.state, text("Ping", {}), NOW).effects, []);
});

Deno.test("rtc reducer: a slow consumer far over its buffer is closed 1013, as on the native protocol", () => {
  const step = reduce(welcomed(), { kind: "backlog", bytes: 4096 * 5 }, NOW);
  assert.equal(ofKind(step.effects, "close")[0]?.code, 1013);
});

Deno.test("rtc reducer: never throws, and answers any text or bytes with well-formed frames", () => {
  const state = welcomed();
  const envelope = fc.record({
    type: fc.constantFrom(
      "Ping",
      "Pong",
      "Subscribe",
      "Unsubscribe",
      "Broadcast",
      "DirectMessage",
      "X-Any",
      "Status",
      "",
    ),
    data: fc.anything(),
    id: fc.oneof(fc.string(), fc.integer(), fc.anything()),
  }, { requiredKeys: [] });
  const input = fc.oneof(
    fc.string().map((text): Input => ({ kind: "frame", text })),
    fc.jsonValue().map((value): Input => ({
      kind: "frame",
      text: JSON.stringify(value),
    })),
    envelope.map((value): Input => ({
      kind: "frame",
      text: JSON.stringify(value) ?? "",
    })),
    fc.uint8Array({ maxLength: 64 }).map((bytes): Input => ({
      kind: "binaryFrame",
      bytes,
    })),
  );
  fc.assert(
    fc.property(fc.array(input, { maxLength: 8 }), (inputs) => {
      let current = state;
      for (const next of inputs) {
        const step = reduce(current, next, NOW);
        for (const frame of sent(step.effects)) {
          assert.equal(typeof frame.type, "string");
          assert.ok("data" in frame);
        }
        current = step.state;
      }
    }),
    { numRuns: 500 },
  );
});
