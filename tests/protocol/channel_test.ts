/** Channel names: the spec's examples, and hostile inputs that must not backtrack. */

import assert from "node:assert/strict";
import { isValidChannelName } from "../../src/protocol/channel.ts";

Deno.test("valid channel names from the spec", () => {
  for (
    const name of ["a", "a:b", "a-b:c_d", "-a", "user:42:inbox", "A_9", "a-:b"]
  ) {
    assert.equal(isValidChannelName(name), true, name);
  }
  assert.equal(isValidChannelName("x".repeat(255)), true);
});

Deno.test("invalid channel names from the spec", () => {
  for (
    const name of [
      "",
      "a:",
      ":a",
      "a::b",
      "a b",
      "a.b",
      "a-",
      "a/b",
      "ä",
      "-",
      "a:-",
      "x".repeat(256),
    ]
  ) {
    assert.equal(isValidChannelName(name), false, JSON.stringify(name));
  }
});

Deno.test("hostile names are rejected in linear time", () => {
  // Each of these takes the original's regex `^([\w-]+:?)*\w$` exponential time.
  const hostile = [
    "a".repeat(100_000) + "!",
    "a:".repeat(50_000) + "!",
    "a".repeat(254) + "!",
    "a-".repeat(127) + "!",
    "a:".repeat(127) + "-",
  ];
  const started = performance.now();
  for (const name of hostile) assert.equal(isValidChannelName(name), false);
  // A generous bound: the regex would take years on these; the scanner microseconds.
  assert.ok(performance.now() - started < 100);
});
