/**
 * Presence in the reducer (SPEC §8): the token's `info`, membership and the
 * `joinLeave`/`occupancy` wishes of a subscription, `presence` and
 * `presenceStats` checked as `subscribe` is, and their answers' JSON.
 */

import assert from "node:assert/strict";
import { MAX_INFO_BYTES } from "../../src/protocol/authentication.ts";
import {
  DEFAULT_CHANNEL_POLICY,
  Namespaces,
} from "../../src/protocol/namespaces.ts";
import { initialState } from "../../src/protocol/state.ts";
import {
  authenticated,
  CLAIMS,
  errorOf,
  frame,
  fresh,
  LIMITS,
  run,
  verified,
} from "../support/reducer.ts";

function subscribeEffect(
  params: Record<string, unknown>,
  claims: Record<string, unknown> = CLAIMS,
) {
  const { effects } = run(
    authenticated(claims),
    frame({ id: 1, method: "subscribe", params }),
  );
  const [effect] = effects;
  assert.ok(effect?.kind === "subscribe", JSON.stringify(effects));
  return effect.subscription;
}

Deno.test("auth: info must be a JSON object of at most 1 KiB; absent stays absent", () => {
  const refused = (info: unknown) =>
    errorOf(run(fresh(), verified({ ...CLAIMS, info })).effects);
  assert.equal(refused("a string"), "InvalidArgument");
  assert.equal(refused([1, 2]), "InvalidArgument");
  assert.equal(refused(null), "InvalidArgument");
  assert.equal(
    refused({ text: "x".repeat(MAX_INFO_BYTES) }),
    "InvalidArgument",
  );
  const withInfo = authenticated({ ...CLAIMS, info: { name: "Alice" } });
  assert.equal(withInfo.auth?.info, '{"name":"Alice"}');
  assert.equal("info" in (authenticated().auth ?? {}), false);
});

Deno.test("subscribe: every subscription is a member, with the token's info; joinLeave and occupancy only when asked", () => {
  assert.deepEqual(subscribeEffect({ channel: "room1" }), {
    id: "c1.1",
    channel: "room1",
    member: { user: "alice", connectionId: "c1" },
  });
  assert.deepEqual(
    subscribeEffect(
      { channel: "room1", joinLeave: true, occupancy: true },
      { ...CLAIMS, info: { name: "Alice" } },
    ),
    {
      id: "c1.1",
      channel: "room1",
      joinLeave: true,
      occupancy: true,
      member: { user: "alice", connectionId: "c1", info: '{"name":"Alice"}' },
    },
  );
  const { effects } = run(
    authenticated(),
    frame({
      id: 1,
      method: "subscribe",
      params: { channel: "room1", joinLeave: 1 },
    }),
  );
  assert.equal(errorOf(effects), "InvalidArgument");
});

Deno.test("subscribe with PRESENCE off: no membership", () => {
  const state = run(
    initialState({
      connectionId: "c1",
      limits: {
        ...LIMITS,
        namespaces: new Namespaces({
          ...DEFAULT_CHANNEL_POLICY,
          presence: false,
        }),
      },
    }),
    verified(CLAIMS),
  ).state;
  const { effects } = run(
    state,
    frame({ id: 1, method: "subscribe", params: { channel: "room1" } }),
  );
  assert.deepEqual(
    effects[0]?.kind === "subscribe" && effects[0].subscription,
    { id: "c1.1", channel: "room1" },
  );
});

Deno.test("presence and presenceStats: checked as subscribe, then read with the member cap", () => {
  for (
    const [method, stats] of [["presence", false], [
      "presenceStats",
      true,
    ]] as const
  ) {
    const ask = (params: unknown, state = authenticated()) =>
      run(state, frame({ id: 1, method, params })).effects;
    assert.deepEqual(ask({ channel: "room1" }), [{
      kind: "presence",
      channel: "room1",
      requestId: 1,
      stats,
      max: LIMITS.presenceMaxMembers,
    }]);
    assert.equal(errorOf(ask({})), "InvalidArgument");
    assert.equal(errorOf(ask({ channel: "room:*" })), "InvalidArgument");
    assert.equal(
      errorOf(ask({ channel: "room1" }, fresh())),
      "Unauthenticated",
    );
    assert.equal(errorOf(ask({ channel: "elsewhere" })), "PermissionDenied");
    // A notification asks for an answer nobody will read.
    assert.deepEqual(
      run(authenticated(), frame({ method, params: { channel: "room1" } }))
        .effects,
      [],
    );
  }
});

Deno.test("presenceRead: members (info spliced, absent when none, truncated past the cap) and counts", () => {
  const members = run(authenticated(), {
    kind: "presenceRead",
    requestId: 1,
    presence: {
      connections: 3,
      users: 2,
      truncated: true,
      members: [
        { user: "alice", connectionId: "c1", info: '{"name":"Alice"}' },
        { user: "bob", connectionId: "c2" },
      ],
    },
  }).effects;
  assert.deepEqual(members, [{
    kind: "reply",
    frame: {
      requestId: 1,
      resultJson:
        '{"connections":3,"users":2,"members":[{"user":"alice","connectionId":"c1","info":{"name":"Alice"}},{"user":"bob","connectionId":"c2"}],"truncated":true}',
    },
  }]);
  const counts = run(authenticated(), {
    kind: "presenceRead",
    requestId: 2,
    presence: { connections: 3, users: 2 },
  }).effects;
  assert.deepEqual(counts, [{
    kind: "reply",
    frame: { requestId: 2, resultJson: '{"connections":3,"users":2}' },
  }]);
});
