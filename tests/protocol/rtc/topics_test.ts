/** Topics ↔ channels (SPEC §11): `a.b` is `a:b`, wildcards make patterns, anything else is refused. */

import assert from "node:assert/strict";
import { topicOf, topicOfChannel } from "../../../src/protocol/rtc/topics.ts";

Deno.test("topics: dots are colons; * and > make a pattern; colons, #, empty and bad segments are no topic", () => {
  assert.deepEqual(topicOf("notifications"), {
    topic: "notifications",
    channel: "notifications",
    pattern: false,
  });
  assert.deepEqual(topicOf("chat.general"), {
    topic: "chat.general",
    channel: "chat:general",
    pattern: false,
  });
  assert.deepEqual(topicOf("updates.*"), {
    topic: "updates.*",
    channel: "updates:*",
    pattern: true,
  });
  assert.equal(topicOf("updates.>")?.pattern, true);
  for (
    const bad of [
      "",
      ".",
      "a.",
      ".a",
      "a..b",
      "a:b",
      "#alice",
      "a b",
      "ä",
      "a.>.b",
    ]
  ) {
    assert.equal(topicOf(bad), null, bad);
  }
  assert.equal(topicOfChannel("updates:prices:eu"), "updates.prices.eu");
});
