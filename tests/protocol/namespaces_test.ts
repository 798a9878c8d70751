/**
 * Namespaces in the reducer (SPEC §10): a channel's policy by its first
 * segment decides membership, join/leave, client publishing, history and the
 * subscriber cap; a full channel is refused with ResourceExhausted.
 */

import assert from "node:assert/strict";
import { Namespaces } from "../../src/protocol/namespaces.ts";
import { reduce } from "../../src/protocol/reducer.ts";
import { initialState } from "../../src/protocol/state.ts";
import {
  CLAIMS,
  errorOf,
  frame,
  LIMITS,
  NOW,
  run,
  verified,
} from "../support/reducer.ts";

const DEFAULTS = {
  historySize: 10,
  historyTtlSeconds: 60,
  presence: true,
  joinLeave: true,
  clientPublish: true,
  maxSubscribers: 0,
};

function inNamespaces() {
  const limits = {
    ...LIMITS,
    namespaces: new Namespaces(DEFAULTS, {
      chat: {
        presence: false,
        joinLeave: false,
        clientPublish: false,
        historySize: 2,
        maxSubscribers: 5,
      },
    }),
  };
  return run(
    initialState({ connectionId: "c1", limits }),
    verified({ ...CLAIMS, authorizedChannels: ["chat:>", "room1"] }),
  ).state;
}

Deno.test("policyOf: by first segment, the defaults elsewhere", () => {
  const namespaces = new Namespaces(DEFAULTS, { chat: { historySize: 2 } });
  assert.equal(namespaces.policyOf("chat:a").historySize, 2);
  assert.equal(namespaces.policyOf("chat").historySize, 10);
  assert.equal(namespaces.policyOf("#chat:a").historySize, 10);
  assert.equal(
    namespaces.policyOf("chat:a"),
    namespaces.policyOf("chat:b"),
    "one object per namespace",
  );
});

Deno.test("a namespace decides membership, join/leave, client publishing, history and the cap", () => {
  const state = inNamespaces();
  const ask = (method: string, params: Record<string, unknown>) =>
    run(state, frame({ id: 1, method, params })).effects;
  const subscribe = ask("subscribe", { channel: "chat:a" })[0];
  assert.ok(subscribe?.kind === "subscribe");
  assert.equal(subscribe.subscription.member, undefined, "presence off");
  assert.equal(subscribe.maxSubscribers, 5);
  const plain = ask("subscribe", { channel: "room1" })[0];
  assert.ok(plain?.kind === "subscribe");
  assert.ok(plain.subscription.member !== undefined);
  assert.equal(plain.maxSubscribers, 0);
  assert.equal(
    errorOf(ask("subscribe", { channel: "chat:a", joinLeave: true })),
    "PermissionDenied",
  );
  assert.equal(
    errorOf(ask("publish", { channel: "chat:a", event: "e" })),
    "PermissionDenied",
  );
  const history = ask("history", { channel: "chat:a", limit: 100 })[0];
  assert.ok(history?.kind === "history");
  assert.equal(history.limit, 2);
});

Deno.test("a full channel ends the subscription with ResourceExhausted", () => {
  const state = run(
    inNamespaces(),
    frame({ id: 1, method: "subscribe", params: { channel: "chat:a" } }),
  ).state;
  const subscription = state.subscriptions.get("chat:a");
  assert.ok(subscription !== undefined);
  const step = reduce(state, {
    kind: "channelFull",
    subscription,
    requestId: 1,
    limit: 5,
  }, NOW);
  assert.equal(step.state.subscriptions.has("chat:a"), false);
  assert.deepEqual(step.effects[0], { kind: "unsubscribe", subscription });
  assert.equal(errorOf(step.effects.slice(1)), "ResourceExhausted");
});
