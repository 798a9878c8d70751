/**
 * Publish validation: the fast path for well-formed params and the schema
 * that explains malformed ones accept exactly the same messages.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { isChannel } from "../../src/protocol/channel.ts";
import { newMessageFrom } from "../../src/protocol/publication.ts";
import { decodeParams, PublishParams } from "../../src/protocol/schema.ts";

const value = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.string(),
  fc.integer(),
  fc.boolean(),
  fc.array(fc.integer()),
  fc.dictionary(fc.string(), fc.integer()),
);

const params = fc.oneof(
  value,
  fc.record({
    channel: fc.oneof(
      fc.constantFrom("room1", "a:b", "a b", "", "#alice", "#", "updates:*"),
      value,
    ),
    event: fc.oneof(fc.constantFrom("e", ""), value),
    payload: value,
  }, { requiredKeys: [] }),
);

Deno.test("property: newMessageFrom accepts exactly what the schema (and channel rules) accept, with the same fields", () => {
  fc.assert(
    fc.property(params, (input) => {
      const result = newMessageFrom(input, 65536);
      const decoded = decodeParams(PublishParams, input);
      // A channel name, or a personal channel (SPEC §9).
      const expected = decoded.ok && isChannel(decoded.value.channel);
      assert.equal(result.ok, expected);
      if (result.ok && decoded.ok) {
        assert.deepEqual(result.value, {
          channel: decoded.value.channel,
          event: decoded.value.event,
          payloadJson: JSON.stringify(decoded.value.payload),
        });
      }
      if (!result.ok && !decoded.ok) {
        assert.deepEqual(result.error, decoded.error);
      }
    }),
    { numRuns: 2000 },
  );
});
