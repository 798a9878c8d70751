/**
 * The WebRocket reducer, driven directly: what the integration tests cannot
 * reach easily (engine failures, a full channel, switching users, limits)
 * and a property test that no input throws.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import type { Effect, Input } from "../../../src/protocol/effects.ts";
import type { WebRocketInput } from "../../../src/protocol/webrocket/effects.ts";
import {
  DEFAULT_CHANNEL_POLICY,
  Namespaces,
} from "../../../src/protocol/namespaces.ts";
import {
  reduce,
  type WebRocketStep,
} from "../../../src/protocol/webrocket/reducer.ts";
import {
  type WebRocketState,
  webRocketState,
} from "../../../src/protocol/webrocket/state.ts";

const NOW = 1_000_000;

const USERS = new Map([
  ["joe", {
    name: "joe",
    secret: "53cr37",
    permissions: ["READ", "WRITE"] as const,
  }],
  ["eve", { name: "eve", secret: "3v3", permissions: ["READ"] as const }],
]);

function fresh(rateLimit = 100): WebRocketState {
  return webRocketState("c1", {
    maxSubscriptions: 2,
    maxMessageBytes: 1024,
    rateLimit,
    outboundBufferBytes: 4096,
    presenceMaxMembers: 10,
    namespaces: new Namespaces(DEFAULT_CHANNEL_POLICY),
  }, USERS);
}

function frame(value: unknown): Input {
  return { kind: "frame", text: JSON.stringify(value) };
}

/**
 * Feeds `inputs` in turn; the last step. An `admitUser` is answered as the
 * shell answers it with no MAX_CONNECTIONS_PER_USER.
 */
function run(
  state: WebRocketState,
  ...inputs: (Input | WebRocketInput)[]
): WebRocketStep {
  let step: WebRocketStep = { state, effects: [] };
  for (const input of inputs) {
    step = reduce(step.state, input, NOW);
    const admit = step.effects.find((effect) => effect.kind === "admitUser");
    if (admit?.kind === "admitUser") {
      step = reduce(step.state, {
        kind: "userAdmitted",
        user: admit.user,
        overUserLimit: false,
      }, NOW);
    }
  }
  return step;
}

function sent(step: WebRocketStep): Record<string, unknown>[] {
  return step.effects.flatMap((effect) =>
    (effect as Effect).kind === "send"
      ? [JSON.parse((effect as { text: string }).text)]
      : []
  );
}

function subscribeEffect(step: WebRocketStep) {
  const effect = step.effects.find((candidate) =>
    (candidate as Effect).kind === "subscribe"
  ) as Extract<Effect, { kind: "subscribe" }> | undefined;
  assert.ok(effect !== undefined);
  return effect;
}

const JOE = frame({ authenticate: { user: "joe", secret: "53cr37" } });

Deno.test("webrocket reducer: a subscribe that fails on the engine is INTERNAL_ERROR, on a full channel ACCESS_DENIED; either way it ends", () => {
  const asked = run(fresh(), JOE, frame({ subscribe: { channel: "a" } }));
  const effect = subscribeEffect(asked);
  const failed = reduce(asked.state, {
    kind: "subscribeFailed",
    subscription: effect.subscription,
    requestId: effect.requestId,
    failure: "unavailable",
  }, NOW);
  assert.equal(sent(failed)[0]?.err, "INTERNAL_ERROR");
  assert.equal(failed.state.subscriptions.size, 0);
  const full = reduce(asked.state, {
    kind: "channelFull",
    subscription: effect.subscription,
    requestId: effect.requestId,
    limit: 3,
  }, NOW);
  assert.equal(sent(full)[0]?.err, "ACCESS_DENIED");
  assert.ok(full.effects.some((e) => (e as Effect).kind === "unsubscribe"));
});

Deno.test("webrocket reducer: subscriptions past MAX_SUBSCRIPTIONS are ACCESS_DENIED; authenticating as another user ends them", () => {
  let state = run(fresh(), JOE).state;
  for (const channel of ["a", "b"]) {
    const step = run(state, frame({ subscribe: { channel } }));
    const effect = subscribeEffect(step);
    state = reduce(step.state, {
      kind: "subscribed",
      subscription: effect.subscription,
      requestId: effect.requestId,
      recover: false,
      since: null,
      read: {
        position: { epoch: "e", offset: 0 },
        messages: [],
        recovered: false,
      },
    }, NOW).state;
  }
  assert.equal(
    sent(run(state, frame({ subscribe: { channel: "c" } })))[0]?.err,
    "ACCESS_DENIED",
  );
  const again = run(state, JOE);
  assert.equal(again.state.subscriptions.size, 2, "the same user keeps them");
  const eve = run(
    state,
    frame({ authenticate: { user: "eve", secret: "3v3" } }),
  );
  assert.deepEqual(sent(eve), [{ authenticated: "eve" }]);
  assert.equal(eve.state.subscriptions.size, 0);
  assert.equal(
    eve.effects.filter((e) => (e as Effect).kind === "unsubscribe").length,
    2,
  );
});

Deno.test("webrocket reducer: right credentials ask the shell to admit the user; over MAX_CONNECTIONS_PER_USER it is ACCESS_DENIED and close 1008, nobody authenticated", () => {
  const asked = reduce(fresh(), JOE, NOW);
  assert.deepEqual(asked.effects, [{ kind: "admitUser", user: "joe" }]);
  assert.equal(asked.state.auth, null, "not before the answer");
  const refused = reduce(asked.state, {
    kind: "userAdmitted",
    user: "joe",
    overUserLimit: true,
  }, NOW);
  assert.deepEqual(sent(refused), [{
    err: "ACCESS_DENIED",
    additional_info: "too many connections for this user",
  }]);
  assert.deepEqual(
    refused.effects.find((effect) => effect.kind === "close"),
    {
      kind: "close",
      code: 1008,
      reason: "too many connections for this user",
    },
  );
  assert.equal(refused.state.auth, null);
  const welcome = reduce(asked.state, {
    kind: "userAdmitted",
    user: "joe",
    overUserLimit: false,
  }, NOW);
  assert.deepEqual(sent(welcome), [{ authenticated: "joe" }]);
  assert.equal(welcome.state.auth?.subject, "joe");
});

Deno.test("webrocket reducer: RATE_LIMITED past the budget, close 1008 for abuse; a frame over the limit closes 1009; data over it is INVALID_PAYLOAD", () => {
  let state = run(fresh(1), JOE).state;
  const errors: unknown[] = [];
  let closed: number | undefined;
  for (let i = 0; i < 8 && closed === undefined; i++) {
    const step = reduce(state, frame({ logout: "no" }), NOW);
    state = step.state;
    errors.push(sent(step)[0]?.err);
    closed = (step.effects.find((e) => (e as Effect).kind === "close") as
      | { code: number }
      | undefined)?.code;
  }
  assert.ok(errors.includes("RATE_LIMITED"));
  assert.equal(closed, 1008);
  const big = reduce(fresh(), { kind: "oversizedFrame" }, NOW);
  assert.equal((big.effects[0] as { code: number }).code, 1009);
  assert.equal(
    sent(run(
      fresh(),
      JOE,
      frame({
        broadcast: { event: "e", channel: "a", data: "x".repeat(2000) },
      }),
    ))[0]?.err,
    "INVALID_PAYLOAD",
  );
});

Deno.test("webrocket reducer: never throws; every answer is one {name: value}", () => {
  const state = run(fresh(), JOE).state;
  const events = fc.constantFrom(
    "authenticate",
    "subscribe",
    "unsubscribe",
    "broadcast",
    "trigger",
    "logout",
    "disconnect",
    "other",
  );
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.jsonValue().map((value) => JSON.stringify(value)),
        fc.dictionary(events, fc.anything(), { maxKeys: 2 }).map((value) =>
          JSON.stringify(value) ?? ""
        ),
      ),
      (text) => {
        const step = reduce(state, { kind: "frame", text }, NOW);
        for (const answer of sent(step)) {
          const keys = Object.keys(answer);
          assert.ok(
            keys.length === 1 || (keys[0] === "err" && keys.length === 2),
            text,
          );
        }
      },
    ),
    { numRuns: 500 },
  );
});
