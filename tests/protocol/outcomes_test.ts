/**
 * The reducer decides every frame, the answers to asynchronous work included:
 * the outcomes of the shell's effects come back as inputs and are answered
 * here, and the socket's own events (binary and oversized frames, close) end
 * in effects too.
 */

import assert from "node:assert/strict";
import type { Effect, Input } from "../../src/protocol/effects.ts";
import type { Message } from "../../src/protocol/message.ts";
import { parsePosition, type StreamRead } from "../../src/protocol/position.ts";
import { reduce } from "../../src/protocol/reducer.ts";
import { isOversized } from "../../src/protocol/size.ts";
import type { Subscription } from "../../src/protocol/state.ts";
import {
  authenticated,
  errorOf,
  frame,
  fresh,
  LIMITS,
  NOW,
  resultOf,
  run,
  subscribed,
} from "../support/reducer.ts";

const MESSAGE: Message = {
  id: "ep-7",
  createTime: "2026-01-02T03:04:05.000Z",
  channel: "room1",
  event: "e",
  payloadJson: '{"a":1}',
  epoch: "ep",
  offset: 7,
};

/** The stream read the shell reports: position `ep-<offset>`. */
function read(
  offset: number,
  messages: readonly Message[] = [],
  recovered = false,
): StreamRead {
  return { position: { epoch: "ep", offset }, messages, recovered };
}

function subscribedInput(
  subscription: Subscription,
  since: string | undefined,
  streamRead: StreamRead,
): Input {
  return {
    kind: "subscribed",
    subscription,
    requestId: 1,
    recover: since !== undefined,
    since: since === undefined ? null : parsePosition(since),
    read: streamRead,
  };
}

Deno.test("subscribed: the result carries the position, then the hub starts counting from it", () => {
  const state = subscribed("room1");
  const subscription = state.subscriptions.get("room1");
  assert.ok(subscription !== undefined);
  const { effects } = reduce(
    state,
    subscribedInput(subscription, undefined, read(0)),
    NOW,
  );
  assert.deepEqual(effects, [
    {
      kind: "reply",
      frame: {
        requestId: 1,
        result: {
          subscriptionId: "c1.1",
          timestamp: "2026-01-02T03:04:05.678Z",
          position: "ep-0",
        },
      },
    },
    {
      kind: "activate",
      subscription,
      start: { epoch: "ep", base: 0, replay: [], end: 0 },
    },
  ]);
});

Deno.test("subscribed with since: recovered true replays from since, false replays nothing and counts from the position", () => {
  const state = subscribed("room1");
  const subscription = state.subscriptions.get("room1");
  assert.ok(subscription !== undefined);
  const recovered = reduce(
    state,
    subscribedInput(subscription, "ep-6", read(7, [MESSAGE], true)),
    NOW,
  ).effects;
  assert.deepEqual(resultOf(recovered), {
    subscriptionId: "c1.1",
    timestamp: "2026-01-02T03:04:05.678Z",
    position: "ep-7",
    recovered: true,
  });
  assert.deepEqual(recovered[1], {
    kind: "activate",
    subscription,
    start: { epoch: "ep", base: 6, replay: [MESSAGE], end: 7 },
  });
  for (const since of ["ep-1", "other-6", "not a position"]) {
    const lost: readonly Effect[] = reduce(
      state,
      subscribedInput(subscription, since, read(7)),
      NOW,
    ).effects;
    assert.deepEqual(resultOf(lost), {
      subscriptionId: "c1.1",
      timestamp: "2026-01-02T03:04:05.678Z",
      position: "ep-7",
      recovered: false,
    });
    assert.deepEqual(lost[1], {
      kind: "activate",
      subscription,
      start: { epoch: "ep", base: 7, replay: [], end: 7 },
    });
  }
});

Deno.test("subscribed: a notification subscribe is not answered but goes live", () => {
  const state = subscribed("room1");
  const subscription = state.subscriptions.get("room1");
  assert.ok(subscription !== undefined);
  const { effects } = reduce(state, {
    ...subscribedInput(subscription, undefined, read(3)),
    requestId: undefined,
  } as Input, NOW);
  assert.deepEqual(effects, [{
    kind: "activate",
    subscription,
    start: { epoch: "ep", base: 3, replay: [], end: 3 },
  }]);
});

Deno.test("subscribeFailed: the subscription ends, and the client is told the engine is unavailable", () => {
  const state = subscribed("room1");
  const subscription = state.subscriptions.get("room1");
  assert.ok(subscription !== undefined);
  const step = reduce(state, {
    kind: "subscribeFailed",
    subscription,
    requestId: 1,
    failure: "unavailable",
  }, NOW);
  assert.equal(step.state.subscriptions.size, 0);
  assert.deepEqual(step.effects[0], { kind: "unsubscribe", subscription });
  assert.equal(errorOf(step.effects.slice(1)), "Internal");
  // The channel can be subscribed again.
  const again = run(
    step.state,
    frame({ id: 2, method: "subscribe", params: { channel: "room1" } }),
  );
  assert.equal(again.effects[0]?.kind, "subscribe");
});

Deno.test("subscribed after the subscription ended: the hub lets it go", () => {
  const subscription = { id: "c1.9", channel: "room1" };
  const { effects } = reduce(
    authenticated(),
    subscribedInput(subscription, undefined, read(0)),
    NOW,
  );
  assert.deepEqual(effects, [{ kind: "unsubscribe", subscription }]);
});

Deno.test("published: the id and createTime; a notification gets nothing", () => {
  const answered = reduce(authenticated(), {
    kind: "published",
    requestId: 1,
    message: MESSAGE,
  }, NOW);
  assert.deepEqual(resultOf(answered.effects), {
    id: "ep-7",
    createTime: "2026-01-02T03:04:05.000Z",
  });
  const silent = reduce(authenticated(), {
    kind: "published",
    requestId: undefined,
    message: MESSAGE,
  }, NOW);
  assert.deepEqual(silent.effects, []);
});

Deno.test("engineFailed (publish, history): Internal, saying whether to retry", () => {
  const unavailable = reduce(authenticated(), {
    kind: "engineFailed",
    operation: "publish",
    requestId: 1,
    failure: "unavailable",
  }, NOW).effects;
  assert.equal(errorOf(unavailable), "Internal");
  assert.deepEqual(unavailable[0], {
    kind: "reply",
    frame: {
      requestId: 1,
      error: {
        code: "Internal",
        message: "publish failed: the engine is unavailable, try again",
      },
    },
  });
  // A notification publish that failed is still told: nothing is lost silently.
  const notified = reduce(authenticated(), {
    kind: "engineFailed",
    operation: "publish",
    requestId: undefined,
    failure: "failed",
  }, NOW).effects;
  assert.deepEqual(notified, [{
    kind: "reply",
    frame: {
      error: { code: "Internal", message: "publish failed: internal error" },
    },
  }]);
  const history = reduce(authenticated(), {
    kind: "engineFailed",
    operation: "history",
    requestId: 1,
    failure: "unavailable",
  }, NOW).effects;
  assert.equal(errorOf(history), "Internal");
});

Deno.test("historyRead: the payloads are spliced in, never parsed again", () => {
  const { effects } = reduce(authenticated(), {
    kind: "historyRead",
    requestId: 4,
    messages: [MESSAGE],
  }, NOW);
  assert.deepEqual(effects, [{
    kind: "reply",
    frame: {
      requestId: 4,
      resultJson:
        '{"messages":[{"id":"ep-7","createTime":"2026-01-02T03:04:05.000Z","channel":"room1","event":"e","payload":{"a":1}}]}',
    },
  }]);
});

Deno.test("a binary frame closes with 1003", () => {
  const { effects } = reduce(fresh(), {
    kind: "binaryFrame",
    bytes: new Uint8Array(1),
  }, NOW);
  assert.deepEqual(effects, [{
    kind: "close",
    code: 1003,
    reason: "binary frames are not supported",
  }]);
});

Deno.test("a frame over MAX_MESSAGE_BYTES closes with 1009, counted in UTF-8 bytes", () => {
  const limit = LIMITS.maxMessageBytes;
  assert.ok(isOversized("x".repeat(limit + 1), limit));
  // Fewer UTF-16 units than the limit, more UTF-8 bytes.
  assert.ok(isOversized("é".repeat(limit / 2 + 1), limit));
  assert.ok(!isOversized("x".repeat(limit), limit));
  assert.ok(!isOversized("é".repeat(limit / 2), limit));
  const { effects } = reduce(fresh(), { kind: "oversizedFrame" }, NOW);
  assert.deepEqual(effects, [{
    kind: "close",
    code: 1009,
    reason: `frame over ${limit} bytes`,
  }]);
});

Deno.test("closed: every subscription leaves the hub, and nothing happens after", () => {
  const state = subscribed("room1", "room2");
  const closed = reduce(state, { kind: "closed" }, NOW);
  assert.deepEqual(
    closed.effects,
    [...state.subscriptions.values()].map((subscription) => ({
      kind: "unsubscribe",
      subscription,
    })),
  );
  assert.equal(closed.state.subscriptions.size, 0);
  const after = run(
    closed.state,
    frame({ id: 1, method: "heartbeat" }),
    { kind: "timer", name: "tokenExpired" },
  );
  assert.deepEqual(after.effects, []);
});
