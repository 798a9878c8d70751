/**
 * The reducer, driven directly: every method and error of SPEC §3 in the order
 * the spec gives, notifications, malformed frames, and properties over random
 * sequences of frames.
 */

import { CATCH_UP_BATCH } from "../../src/protocol/outbound.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Input } from "../../src/protocol/effects.ts";
import { reduce } from "../../src/protocol/reducer.ts";
import {
  type ConnectionState,
  initialState,
} from "../../src/protocol/state.ts";
import {
  authenticated,
  CLAIMS,
  errorAnswering,
  errorOf,
  frame,
  fresh,
  LIMITS,
  NOW,
  resultOf,
  run,
  subscribed,
  verified,
  verifiedAnswering,
} from "../support/reducer.ts";

Deno.test("envelope: malformed JSON, non-objects and bad ids are InvalidArgument without requestId", () => {
  for (
    const text of [
      "{",
      "",
      "[]",
      "42",
      '"x"',
      "null",
      '{"id":-1,"method":"heartbeat"}',
      '{"id":1.5,"method":"heartbeat"}',
      '{"id":"1","method":"heartbeat"}',
    ]
  ) {
    const { state, effects } = reduce(fresh(), { kind: "frame", text }, NOW);
    assert.equal(errorAnswering(effects, undefined), "InvalidArgument", text);
    assert.deepEqual({ ...state, rate: null }, { ...fresh(), rate: null });
  }
});

Deno.test("envelope: a missing or non-string method is InvalidArgument answering the id", () => {
  assert.equal(
    errorOf(run(fresh(), frame({ id: 1 })).effects),
    "InvalidArgument",
  );
  assert.equal(
    errorOf(run(fresh(), frame({ id: 1, method: 7 })).effects),
    "InvalidArgument",
  );
});

Deno.test("unknown method: NotFound naming the method", () => {
  const { effects } = run(fresh(), frame({ id: 1, method: "frobnicate" }));
  const [effect] = effects;
  assert.ok(effect?.kind === "reply" && "error" in effect.frame);
  assert.deepEqual(effect.frame.error, {
    code: "NotFound",
    message: 'method not found: "frobnicate"',
  });
});

Deno.test("heartbeat: answers the time passed in, as RFC 3339 UTC", () => {
  const { effects } = run(fresh(), frame({ id: 7, method: "heartbeat" }));
  assert.deepEqual(resultOf(effects, 7), {
    timestamp: "2026-01-02T03:04:05.678Z",
  });
});

Deno.test("notifications: no success response, but errors are still sent without requestId", () => {
  for (const id of [undefined, 0, null]) {
    assert.deepEqual(
      run(fresh(), frame({ id, method: "heartbeat" })).effects,
      [],
    );
    assert.equal(
      errorAnswering(
        run(
          fresh(),
          frame({ id, method: "subscribe", params: { channel: "room1" } }),
        ).effects,
        undefined,
      ),
      "Unauthenticated",
    );
  }
  const state = run(
    authenticated(),
    frame({ method: "subscribe", params: { channel: "room1" } }),
  );
  assert.equal(state.effects.length, 1);
  assert.equal(state.effects[0]?.kind, "subscribe");
  assert.ok(state.state.subscriptions.has("room1"));
});

Deno.test("auth: InvalidArgument for bad params, before any verification", () => {
  for (const params of [undefined, {}, { token: 1 }, { token: "" }, "x"]) {
    assert.equal(
      errorOf(run(fresh(), frame({ id: 1, method: "auth", params })).effects),
      "InvalidArgument",
    );
  }
});

Deno.test("auth: asks the shell to verify the token", () => {
  const { effects } = run(
    fresh(),
    frame({ id: 4, method: "auth", params: { token: "t" } }),
  );
  assert.deepEqual(effects, [{
    kind: "verifyToken",
    token: "t",
    requestId: 4,
  }]);
});

Deno.test("auth: a refused token is Unauthenticated with the verifier's reason", () => {
  const { state, effects } = run(fresh(), {
    kind: "tokenVerified",
    requestId: 1,
    outcome: { ok: false, reason: "token expired" },
  });
  assert.equal(errorOf(effects), "Unauthenticated");
  assert.equal(state.auth, null);
});

Deno.test("auth: empty sub, empty or non-array authorizedChannels are InvalidArgument", () => {
  for (
    const claims of [
      { ...CLAIMS, sub: "" },
      { ...CLAIMS, sub: undefined },
      { ...CLAIMS, authorizedChannels: [] },
      { ...CLAIMS, authorizedChannels: "room1" },
      { ...CLAIMS, authorizedChannels: [1] },
      { ...CLAIMS, scope: "publish" },
    ]
  ) {
    const { state, effects } = run(fresh(), verified(claims));
    assert.equal(errorOf(effects), "InvalidArgument", JSON.stringify(claims));
    assert.equal(state.auth, null);
  }
});

Deno.test("auth: success sets the credentials; a notification auth gets no reply", () => {
  const { state, effects } = run(fresh(), verified(CLAIMS));
  assert.deepEqual(resultOf(effects), { success: true });
  assert.equal(state.auth?.subject, "alice");
  assert.equal(state.auth?.expiresAt, CLAIMS.exp * 1000);
  assert.deepEqual(
    run(fresh(), verifiedAnswering(CLAIMS, undefined)).effects
      .filter((effect) => effect.kind !== "timer"),
    [],
  );
});

Deno.test("auth: without a scope claim the token may subscribe but not publish", () => {
  const { scope: _, ...claims } = CLAIMS;
  const state = authenticated(claims);
  assert.equal(
    run(
      state,
      frame({ id: 1, method: "subscribe", params: { channel: "room1" } }),
    )
      .effects[0]?.kind,
    "subscribe",
  );
  assert.equal(
    errorOf(
      run(
        state,
        frame({
          id: 1,
          method: "publish",
          params: { channel: "room1", event: "e", payload: 1 },
        }),
      ).effects,
    ),
    "PermissionDenied",
  );
});

Deno.test("auth: another subject is FailedPrecondition and keeps the first credentials", () => {
  const { state, effects } = run(
    authenticated(),
    verified({ ...CLAIMS, sub: "mallory" }),
  );
  assert.equal(errorOf(effects), "FailedPrecondition");
  assert.equal(state.auth?.subject, "alice");
});

Deno.test("auth: the same subject refreshes and ends subscriptions no longer allowed", () => {
  const before = subscribed("room1", "room2");
  const { state, effects } = run(
    before,
    verified({
      ...CLAIMS,
      authorizedChannels: ["room2"],
      exp: CLAIMS.exp + 60,
    }),
  );
  assert.deepEqual([...state.subscriptions.keys()], ["room2"]);
  assert.equal(state.auth?.expiresAt, (CLAIMS.exp + 60) * 1000);
  assert.deepEqual(effects.slice(0, 2), [
    { kind: "unsubscribe", subscription: before.subscriptions.get("room1") },
    {
      kind: "reply",
      frame: {
        method: "unsubscribed",
        params: { channel: "room1", reason: "PermissionDenied" },
      },
    },
  ]);
  assert.deepEqual(resultOf(effects), { success: true });
});

Deno.test("auth: a refresh re-checks channels and patterns against wildcard grants", () => {
  let state = authenticated({
    ...CLAIMS,
    authorizedChannels: ["updates:>", "#ignored"],
  });
  for (
    const [id, channel] of [[1, "updates:a"], [2, "updates:a:b"], [
      3,
      "updates:>",
    ], [4, "updates:*"]] as const
  ) {
    state =
      run(state, frame({ id, method: "subscribe", params: { channel } })).state;
  }
  assert.equal(state.subscriptions.size, 3);
  const { state: narrowed, effects } = run(
    state,
    verified({ ...CLAIMS, authorizedChannels: ["updates:*"] }),
  );
  assert.deepEqual([...narrowed.subscriptions.keys()], ["updates:a"]);
  const ended = effects.flatMap((effect) =>
    effect.kind === "reply" && "method" in effect.frame
      ? [(effect.frame.params as { channel: string }).channel]
      : []
  );
  assert.deepEqual(ended.sort(), ["updates:>", "updates:a:b"]);
});

Deno.test("subscribe: errors in the order InvalidArgument, Unauthenticated, PermissionDenied, AlreadyExists, ResourceExhausted", () => {
  const sub = (state: ConnectionState, params: unknown) =>
    errorOf(run(state, frame({ id: 1, method: "subscribe", params })).effects);
  // Bad params and bad names come first, even before authentication.
  assert.equal(sub(fresh(), undefined), "InvalidArgument");
  assert.equal(sub(fresh(), { channel: 5 }), "InvalidArgument");
  assert.equal(sub(fresh(), { channel: "a::b" }), "InvalidArgument");
  assert.equal(sub(fresh(), { channel: "room1", since: 3 }), "InvalidArgument");
  assert.equal(sub(fresh(), { channel: "room1" }), "Unauthenticated");
  // Permission: the original said Unauthenticated here; the spec fixes it.
  assert.equal(
    sub(authenticated({ ...CLAIMS, scope: ["publish"] }), { channel: "room1" }),
    "PermissionDenied",
  );
  assert.equal(sub(authenticated(), { channel: "room9" }), "PermissionDenied");
  // Already subscribed: the original said Internal; the spec fixes it.
  assert.equal(sub(subscribed("room1"), { channel: "room1" }), "AlreadyExists");
  assert.equal(
    sub(subscribed("room1", "room2", "a:b"), { channel: "room9" }),
    "PermissionDenied",
  );
});

Deno.test("subscribe: over MAX_SUBSCRIPTIONS is ResourceExhausted", () => {
  const claims = {
    ...CLAIMS,
    authorizedChannels: ["c1", "c2", "c3", "c4"],
  };
  let state = authenticated(claims);
  for (const channel of ["c1", "c2", "c3"]) {
    state =
      run(state, frame({ id: 1, method: "subscribe", params: { channel } }))
        .state;
  }
  assert.equal(
    errorOf(
      run(
        state,
        frame({ id: 1, method: "subscribe", params: { channel: "c4" } }),
      )
        .effects,
    ),
    "ResourceExhausted",
  );
});

Deno.test("subscribe: success registers a uniquely numbered subscription", () => {
  const { state, effects } = run(
    authenticated(),
    frame({ id: 9, method: "subscribe", params: { channel: "room1" } }),
  );
  assert.deepEqual(effects, [{
    kind: "subscribe",
    subscription: {
      id: "c1.1",
      channel: "room1",
      member: { user: "alice", connectionId: "c1" },
    },
    requestId: 9,
    recover: false,
    since: null,
    limit: CATCH_UP_BATCH,
    maxSubscribers: 0,
  }]);
  assert.equal(state.subscriptionsOpened, 1);
  // Unsubscribe and subscribe again: a new id, never a reused one.
  const again = run(
    state,
    frame({ id: 10, method: "unsubscribe", params: { channel: "room1" } }),
    frame({ id: 11, method: "subscribe", params: { channel: "room1" } }),
  );
  assert.equal(again.state.subscriptions.get("room1")?.id, "c1.2");
});

Deno.test("unsubscribe: InvalidArgument, then NotFound, then success", () => {
  const unsub = (state: ConnectionState, params: unknown) =>
    run(state, frame({ id: 1, method: "unsubscribe", params })).effects;
  assert.equal(errorOf(unsub(fresh(), {})), "InvalidArgument");
  assert.equal(errorOf(unsub(fresh(), { channel: "a:" })), "InvalidArgument");
  // The original panicked here (nobody subscribed): now a plain NotFound.
  assert.equal(errorOf(unsub(fresh(), { channel: "room1" })), "NotFound");
  assert.equal(
    errorOf(unsub(authenticated(), { channel: "room1" })),
    "NotFound",
  );
  const state = subscribed("room1");
  const effects = unsub(state, { channel: "room1" });
  assert.deepEqual(effects[0], {
    kind: "unsubscribe",
    subscription: state.subscriptions.get("room1"),
  });
  assert.deepEqual(resultOf(effects), { success: true });
});

Deno.test("the original's crash sequence: subscribe, unsubscribe, subscribe again", () => {
  const { state, effects } = run(
    authenticated(),
    frame({ id: 1, method: "subscribe", params: { channel: "room1" } }),
    frame({ id: 2, method: "unsubscribe", params: { channel: "room1" } }),
    frame({ id: 3, method: "subscribe", params: { channel: "room1" } }),
  );
  assert.equal(effects[0]?.kind, "subscribe");
  assert.equal(state.subscriptions.size, 1);
});

Deno.test("publish: errors in the order InvalidArgument, Unauthenticated, PermissionDenied", () => {
  const pub = (state: ConnectionState, params: unknown) =>
    errorOf(run(state, frame({ id: 1, method: "publish", params })).effects);
  const good = { channel: "room1", event: "e", payload: { a: 1 } };
  assert.equal(pub(fresh(), undefined), "InvalidArgument");
  assert.equal(pub(fresh(), { ...good, channel: "a b" }), "InvalidArgument");
  assert.equal(pub(fresh(), { ...good, event: "" }), "InvalidArgument");
  assert.equal(pub(fresh(), { ...good, event: 3 }), "InvalidArgument");
  // A frame within MAX_MESSAGE_BYTES whose payload, serialised, is over it: `1e20` grows to 21 digits.
  const growing =
    `{"id":1,"method":"publish","params":{"channel":"room1","event":"e","payload":[${
      Array(100).fill("1e20").join(",")
    }]}}`;
  assert.ok(growing.length < LIMITS.maxMessageBytes);
  assert.equal(
    errorOf(run(fresh(), { kind: "frame", text: growing }).effects),
    "InvalidArgument",
  );
  assert.equal(pub(fresh(), good), "Unauthenticated");
  assert.equal(
    pub(authenticated({ ...CLAIMS, scope: ["subscribe"] }), good),
    "PermissionDenied",
  );
  assert.equal(
    pub(authenticated(), { ...good, channel: "room9" }),
    "PermissionDenied",
  );
});

Deno.test("publish: hands the engine the message with its payload serialised once", () => {
  const { effects } = run(
    authenticated(),
    frame({
      id: 3,
      method: "publish",
      params: { channel: "room1", event: "e", payload: { a: [1, "é"] } },
    }),
  );
  assert.deepEqual(effects, [{
    kind: "publish",
    message: { channel: "room1", event: "e", payloadJson: '{"a":[1,"é"]}' },
    requestId: 3,
  }]);
  const missing = run(
    authenticated(),
    frame({
      id: 3,
      method: "publish",
      params: { channel: "room1", event: "e" },
    }),
  );
  assert.equal(
    missing.effects[0]?.kind === "publish" &&
      missing.effects[0].message.payloadJson,
    "null",
  );
});

Deno.test("the reducer never mutates the state it is given", () => {
  const before = subscribed("room1");
  const snapshot = structuredClone({
    ...before,
    subscriptions: [...before.subscriptions],
  });
  run(
    before,
    frame({ id: 1, method: "unsubscribe", params: { channel: "room1" } }),
    frame({ id: 2, method: "subscribe", params: { channel: "room2" } }),
    verified({ ...CLAIMS, authorizedChannels: ["x"] }),
  );
  assert.deepEqual(
    structuredClone({ ...before, subscriptions: [...before.subscriptions] }),
    snapshot,
  );
});

// --- Properties over random sequences -------------------------------------

const channelArbitrary = fc.constantFrom(
  "room1",
  "room2",
  "a:b",
  "room9",
  "a::b",
  "",
);
const valueArbitrary = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer(),
  fc.string(),
  fc.constantFrom({}, [], { a: 1 }),
);
const requestArbitrary = fc.record({
  id: fc.oneof(
    fc.constant(undefined),
    fc.integer({ min: -1, max: 5 }),
    fc.string(),
  ),
  method: fc.oneof(
    fc.constantFrom("auth", "subscribe", "unsubscribe", "publish", "heartbeat"),
    fc.string(),
    valueArbitrary,
  ),
  params: fc.oneof(
    valueArbitrary,
    fc.record({
      channel: fc.oneof(channelArbitrary, valueArbitrary),
      event: fc.oneof(fc.constantFrom("e", ""), valueArbitrary),
      payload: valueArbitrary,
      token: fc.oneof(fc.constant("t"), valueArbitrary),
      since: fc.oneof(fc.constant(undefined), fc.string()),
    }, { requiredKeys: [] }),
  ),
}, { requiredKeys: [] });

const inputArbitrary: fc.Arbitrary<Input> = fc.oneof(
  { weight: 8, arbitrary: requestArbitrary.map((request) => frame(request)) },
  {
    weight: 2,
    arbitrary: fc.string().map((text): Input => ({ kind: "frame", text })),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      sub: fc.constantFrom("alice", "bob", "", 1),
      authorizedChannels: fc.oneof(
        fc.subarray(["room1", "room2", "a:b"]),
        valueArbitrary,
      ),
      scope: fc.oneof(
        fc.subarray(["subscribe", "publish", "admin"]),
        valueArbitrary,
      ),
      exp: fc.constant(CLAIMS.exp),
    }).map((claims) => verified(claims)),
  },
);

Deno.test("property: no sequence of inputs throws, and the state stays consistent", () => {
  fc.assert(
    fc.property(fc.array(inputArbitrary, { maxLength: 40 }), (inputs) => {
      let state = fresh();
      for (const input of inputs) {
        const step = reduce(state, input, NOW);
        const previous = state;
        state = step.state;
        // Every subscription is one the current token allows.
        for (const [channel, subscription] of state.subscriptions) {
          assert.equal(subscription.channel, channel);
          assert.ok(state.auth?.scopes.has("subscribe"));
          assert.ok(state.auth?.channels.has(channel));
        }
        assert.ok(state.subscriptions.size <= LIMITS.maxSubscriptions);
        // Subscription ids are never reused.
        assert.ok(state.subscriptionsOpened >= previous.subscriptionsOpened);
        // Each subscribe effect matches a new subscription in the state.
        for (const effect of step.effects) {
          if (effect.kind === "subscribe") {
            assert.equal(
              state.subscriptions.get(effect.subscription.channel),
              effect.subscription,
            );
          }
        }
      }
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: a subscription exists iff the last successful subscribe is later than the last successful unsubscribe", () => {
  const channels = ["room1", "room2"];
  const op = fc.record({
    method: fc.constantFrom("subscribe", "unsubscribe"),
    channel: fc.constantFrom(...channels),
  });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
      let state = authenticated();
      const expected = new Set<string>();
      for (const { method, channel } of ops) {
        const step = reduce(
          state,
          frame({ id: 1, method, params: { channel } }),
          NOW,
        );
        const succeeded = step.effects.some((effect) => effect.kind === method);
        if (succeeded && method === "subscribe") expected.add(channel);
        if (succeeded && method === "unsubscribe") expected.delete(channel);
        state = step.state;
        assert.deepEqual(new Set(state.subscriptions.keys()), expected);
      }
    }),
    { numRuns: 300 },
  );
});

// --- History, recovery, rate limit, token lifetime -------------------------

Deno.test("history: checked as subscribe is; the limit is capped at HISTORY_SIZE", () => {
  const ask = (state: ConnectionState, params: unknown, id = 1) =>
    run(state, frame({ id, method: "history", params })).effects;
  assert.equal(errorOf(ask(fresh(), {})), "InvalidArgument");
  assert.equal(errorOf(ask(fresh(), { channel: "a:" })), "InvalidArgument");
  assert.equal(
    errorOf(ask(fresh(), { channel: "room1", limit: 0 })),
    "InvalidArgument",
  );
  assert.equal(
    errorOf(ask(fresh(), { channel: "room1", limit: 1.5 })),
    "InvalidArgument",
  );
  assert.equal(errorOf(ask(fresh(), { channel: "room1" })), "Unauthenticated");
  assert.equal(
    errorOf(
      ask(authenticated({ ...CLAIMS, scope: ["publish"] }), {
        channel: "room1",
      }),
    ),
    "PermissionDenied",
  );
  assert.equal(
    errorOf(ask(authenticated(), { channel: "room9" })),
    "PermissionDenied",
  );
  assert.deepEqual(ask(authenticated(), { channel: "room1" }, 4), [
    {
      kind: "history",
      channel: "room1",
      limit: LIMITS.namespaces.defaults.historySize,
      requestId: 4,
    },
  ]);
  assert.deepEqual(ask(authenticated(), { channel: "room1", limit: 3 }, 4), [
    { kind: "history", channel: "room1", limit: 3, requestId: 4 },
  ]);
  assert.deepEqual(ask(authenticated(), { channel: "room1", limit: 500 }, 4), [
    {
      kind: "history",
      channel: "room1",
      limit: LIMITS.namespaces.defaults.historySize,
      requestId: 4,
    },
  ]);
});

Deno.test("subscribe with since asks the shell to recover from that position, in capped batches", () => {
  const asked = (since: string) => {
    const { effects } = run(
      authenticated(),
      frame({
        id: 2,
        method: "subscribe",
        params: { channel: "room1", since },
      }),
    );
    const [effect] = effects;
    assert.ok(effect?.kind === "subscribe");
    return effect;
  };
  const effect = asked("k3x9q2a1-5");
  assert.equal(effect.recover, true);
  assert.deepEqual(effect.since, { epoch: "k3x9q2a1", offset: 5 });
  assert.equal(effect.limit, CATCH_UP_BATCH);
  // Not a position (an id of another server, garbage): recovery is asked
  // for, but nothing can be recovered from it.
  assert.equal(asked("1732270000123-0.5").since, null);
  assert.equal(asked("x").recover, true);
});

Deno.test("rate limit: a burst of 2× RATE_LIMIT, then ResourceExhausted, refilled over time", () => {
  let state = initialState({
    connectionId: "c1",
    limits: { ...LIMITS, rateLimit: 5 },
  });
  const heartbeat = frame({ id: 1, method: "heartbeat" });
  for (let i = 0; i < 10; i++) {
    const step = reduce(state, heartbeat, NOW);
    assert.equal(
      step.effects[0]?.kind === "reply" && "result" in step.effects[0].frame,
      true,
    );
    state = step.state;
  }
  const refused = reduce(state, heartbeat, NOW);
  assert.deepEqual(refused.effects[0], {
    kind: "count",
    counter: "rateLimited",
  });
  assert.equal(errorOf(refused.effects.slice(1)), "ResourceExhausted");
  // 200 ms at 5 per second refills one request.
  const later = reduce(refused.state, heartbeat, NOW + 200);
  assert.ok(
    later.effects[0]?.kind === "reply" && "result" in later.effects[0].frame,
  );
});

Deno.test("rate limit: more than RATE_LIMIT refusals within 10 s closes with 1008", () => {
  let state = initialState({
    connectionId: "c1",
    limits: { ...LIMITS, rateLimit: 5 },
  });
  const junk: Input = { kind: "frame", text: "not even json" };
  const closes: number[] = [];
  for (let i = 0; i < 10 + 6; i++) {
    const step = reduce(state, junk, NOW);
    state = step.state;
    for (const effect of step.effects) {
      if (effect.kind === "close") closes.push(effect.code);
    }
  }
  assert.deepEqual(closes, [1008]);
});

Deno.test("token lifetime: timers on auth and on open, a warning 60 s before exp, 4001 after leeway", () => {
  const expiresAt = CLAIMS.exp * 1000;
  const { effects } = run(fresh(), verified(CLAIMS));
  assert.deepEqual(effects.filter((effect) => effect.kind === "timer"), [
    { kind: "timer", name: "tokenExpiring", at: expiresAt - 60_000 },
    { kind: "timer", name: "tokenExpired", at: expiresAt + 30_000 },
  ]);
  const withToken = initialState({
    connectionId: "c1",
    limits: LIMITS,
    auth: authenticated().auth,
  });
  assert.equal(reduce(withToken, { kind: "opened" }, NOW).effects.length, 2);
  assert.deepEqual(
    reduce(fresh(), { kind: "opened" }, NOW).effects,
    [{ kind: "timer", name: "authTimeout", at: NOW + 10_000 }],
    "without a token: only the default 10 s to authenticate (SPEC §12)",
  );

  const state = authenticated();
  const warning = reduce(
    state,
    { kind: "timer", name: "tokenExpiring" },
    expiresAt - 60_000,
  );
  assert.deepEqual(warning.effects, [{
    kind: "reply",
    frame: {
      method: "tokenExpiring",
      params: { expiresAt: new Date(expiresAt).toISOString() },
    },
  }]);
  const expired = reduce(
    state,
    { kind: "timer", name: "tokenExpired" },
    expiresAt + 30_000,
  );
  assert.deepEqual(expired.effects, [{
    kind: "close",
    code: 4001,
    reason: "token expired",
  }]);
  assert.equal(
    expired.state.auth?.subject,
    "alice",
    "the close log names whose it was",
  );
});

Deno.test("token lifetime: a timer of replaced credentials does nothing", () => {
  const refreshed =
    run(authenticated(), verified({ ...CLAIMS, exp: CLAIMS.exp + 3600 })).state;
  const oldExpiry = CLAIMS.exp * 1000 + 30_000;
  assert.deepEqual(
    reduce(refreshed, { kind: "timer", name: "tokenExpired" }, oldExpiry)
      .effects,
    [],
  );
  assert.deepEqual(
    reduce(
      refreshed,
      { kind: "timer", name: "tokenExpiring" },
      CLAIMS.exp * 1000 - 60_000,
    )
      .effects,
    [],
  );
});

Deno.test("token lifetime: credentials already within 60 s of exp are warned at once", () => {
  const soon = { ...CLAIMS, exp: NOW / 1000 + 30 };
  const { effects } = run(fresh(), verified(soon));
  assert.deepEqual(effects.slice(0, 3), [
    {
      kind: "reply",
      frame: {
        method: "tokenExpiring",
        params: { expiresAt: new Date(soon.exp * 1000).toISOString() },
      },
    },
    { kind: "timer", name: "tokenExpiring", at: Number.POSITIVE_INFINITY },
    { kind: "timer", name: "tokenExpired", at: soon.exp * 1000 + 30_000 },
  ]);
  assert.deepEqual(resultOf(effects), { success: true });
});

Deno.test("auth timeout: a socket still unauthenticated when its timer fires is closed 4008 and counted; an authenticated one is not", () => {
  const opened = reduce(fresh(), { kind: "opened" }, NOW);
  const stale = reduce(
    opened.state,
    { kind: "timer", name: "authTimeout" },
    NOW + 10_000,
  );
  assert.deepEqual(stale.effects, [
    { kind: "count", counter: "staleConnections" },
    { kind: "close", code: 4008, reason: "authentication timeout" },
  ]);
  const authed = run(fresh(), verified(CLAIMS));
  assert.deepEqual(
    reduce(authed.state, { kind: "timer", name: "authTimeout" }, NOW + 10_000)
      .effects,
    [],
  );
});

Deno.test("MAX_CONNECTIONS_PER_USER: an auth over it is ResourceExhausted, then close 1008", () => {
  const { effects } = reduce(fresh(), {
    kind: "tokenVerified",
    requestId: 1,
    outcome: { ok: true, claims: CLAIMS },
    overUserLimit: true,
  }, NOW);
  assert.equal(errorOf(effects.slice(0, 1)), "ResourceExhausted");
  assert.deepEqual(effects.at(-1), {
    kind: "close",
    code: 1008,
    reason: "too many connections for this user",
  });
});
