/**
 * Test fixture: drives the reducer directly, with limits, claims and a clock
 * of its own, and reads its answers.
 *
 * @module
 */

import assert from "node:assert/strict";
import type {
  Effect,
  Input,
  TokenOutcome,
} from "../../src/protocol/effects.ts";
import {
  DEFAULT_CHANNEL_POLICY,
  Namespaces,
} from "../../src/protocol/namespaces.ts";
import { reduce } from "../../src/protocol/reducer.ts";
import {
  type ConnectionState,
  initialState,
} from "../../src/protocol/state.ts";

export const NOW = Date.parse("2026-01-02T03:04:05.678Z");
export const LIMITS = {
  maxSubscriptions: 3,
  maxMessageBytes: 1024,
  rateLimit: 1000,
  outboundBufferBytes: 4096,
  presenceMaxMembers: 2,
  namespaces: new Namespaces({ ...DEFAULT_CHANNEL_POLICY, historySize: 10 }),
};

export const CLAIMS = {
  sub: "alice",
  aud: "broadcaster",
  exp: NOW / 1000 + 3600,
  authorizedChannels: ["room1", "room2", "a:b"],
  scope: ["subscribe", "publish"],
};

export function fresh(): ConnectionState {
  return initialState({ connectionId: "c1", limits: LIMITS });
}

export function frame(request: unknown): Input {
  return { kind: "frame", text: JSON.stringify(request) };
}

export function verified(claims: Record<string, unknown>): Input {
  return verifiedAnswering(claims, 1);
}

export function verifiedAnswering(
  claims: Record<string, unknown>,
  requestId: number | undefined,
): Input {
  const outcome: TokenOutcome = { ok: true, claims };
  return { kind: "tokenVerified", requestId, outcome };
}

/** Runs inputs in order; returns the final state and the last step's effects. */
export function run(state: ConnectionState, ...inputs: Input[]) {
  let effects: readonly Effect[] = [];
  for (const input of inputs) {
    ({ state, effects } = reduce(state, input, NOW));
  }
  return { state, effects };
}

export function authenticated(claims: Record<string, unknown> = CLAIMS) {
  return run(fresh(), verified(claims)).state;
}

export function subscribed(...channels: string[]): ConnectionState {
  let state = authenticated();
  channels.forEach((channel, index) => {
    state = run(
      state,
      frame({
        id: 100 + index,
        method: "subscribe",
        params: { channel },
      }),
    ).state;
  });
  return state;
}

/** The error code of the single reply, asserting that it answers request 1. */
export function errorOf(effects: readonly Effect[]): string {
  return errorAnswering(effects, 1);
}

/** The error code of the single reply, asserting that it answers `requestId`. */
export function errorAnswering(
  effects: readonly Effect[],
  requestId: number | undefined,
): string {
  assert.equal(effects.length, 1, JSON.stringify(effects));
  const [effect] = effects;
  assert.ok(effect?.kind === "reply" && "error" in effect.frame);
  assert.equal(effect.frame.requestId, requestId);
  return effect.frame.error.code;
}

export function resultOf(effects: readonly Effect[], requestId = 1): unknown {
  const replies = effects.filter((effect) => effect.kind === "reply");
  const reply = replies.at(-1);
  assert.ok(reply?.kind === "reply" && "result" in reply.frame);
  assert.equal(reply.frame.requestId, requestId);
  return reply.frame.result;
}
