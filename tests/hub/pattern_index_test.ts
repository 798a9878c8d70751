/**
 * The pattern index: a channel finds exactly the patterns that match it
 * (checked against `covers`), removal prunes, and the hub delivers to
 * pattern subscriptions with one `seq` across channels.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { Hub } from "../../src/hub/hub.ts";
import { PatternIndex } from "../../src/hub/pattern_index.ts";
import { covers } from "../../src/protocol/channel.ts";
import type { Message } from "../../src/protocol/message.ts";

const segment = fc.constantFrom("a", "b", "c");
const channel = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) =>
  s.join(":")
);
const pattern = fc.array(fc.constantFrom("a", "b", "*"), {
  minLength: 1,
  maxLength: 3,
}).chain((segments) =>
  fc.boolean().map((rest) => [...segments, ...(rest ? [">"] : [])].join(":"))
);

Deno.test("property: a channel finds exactly the patterns that match it, after adds and removes", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(pattern, fc.boolean()), { maxLength: 30 }),
      fc.array(channel, { minLength: 1, maxLength: 10 }),
      (operations, channels) => {
        const index = new PatternIndex<string>();
        const live = new Map<string, string>();
        operations.forEach(([name, keep], i) => {
          const id = `s${i}`;
          index.add(name, id, name);
          live.set(id, name);
          if (!keep) {
            index.remove(name, id);
            live.delete(id);
          }
        });
        assert.equal(index.size, live.size);
        for (const name of channels) {
          const found: string[] = [];
          index.forEachMatch(name, (group) => {
            for (const value of group.entries.values()) found.push(value);
          });
          const expected = [...live.values()].filter((p) => covers(p, name));
          assert.deepEqual(found.sort(), expected.sort(), name);
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("add and remove report a pattern's first and last subscription", () => {
  const index = new PatternIndex<number>();
  assert.equal(index.add("a:*", "s1", 1), true);
  assert.equal(index.add("a:*", "s2", 2), false);
  assert.equal(index.remove("a:*", "s1"), false);
  assert.equal(index.remove("a:*", "s1"), false, "removing twice is harmless");
  assert.equal(index.remove("a:*", "s2"), true);
  assert.equal(index.size, 0);
  let visited = 0;
  index.forEachMatch("a:b", () => visited++);
  assert.equal(visited, 0);
});

function message(channel: string, offset: number): Message {
  return {
    id: `e-${offset}`,
    channel,
    createTime: "2026-01-02T03:04:05.678Z",
    event: "e",
    payloadJson: "1",
    epoch: "e",
    offset,
  };
}

Deno.test("the hub: a pattern subscription gets every matching channel, one seq, its pattern named; held until started", () => {
  const hub = new Hub();
  const frames: Record<string, unknown>[] = [];
  const patterns: string[] = [];
  hub.onPattern((name, active) => patterns.push(`${name}:${active}`));
  const subscription = { id: "s1", channel: "room:*", pattern: true as const };
  hub.add(subscription, {
    deliver: (frame) => (frames.push(JSON.parse(frame).params), true),
    lagging: () => {},
    notify: () => {},
    framing: undefined,
  });
  hub.deliver(message("room:a", 1));
  assert.equal(frames.length, 0, "held until started");
  hub.start(subscription, { epoch: "", base: 0, replay: [], end: 0 });
  hub.deliver(message("room:b", 7));
  hub.deliver(message("room:a:x", 2));
  hub.deliver(message("#room:a", 1));
  hub.toPatterns(message("room:c", 1), "room:*");
  hub.toPatterns(message("room:d", 1), "other:*");
  assert.deepEqual(
    frames.map((params) => [params.channel, params.seq, params.pattern]),
    [
      ["room:a", 1, "room:*"],
      ["room:b", 2, "room:*"],
      ["room:c", 3, "room:*"],
    ],
  );
  hub.remove(subscription);
  assert.deepEqual(patterns, ["room:*:true", "room:*:false"]);
  assert.equal(hub.subscriptionCount, 0);
});
