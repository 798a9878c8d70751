/**
 * Personal channels, patterns and grants (SPEC §9): which names are which,
 * and how grants cover channels and patterns, against a brute-force model.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  covers,
  globOf,
  hasWildcard,
  isChannel,
  isPattern,
  isPersonalChannel,
  personalOwner,
} from "../../src/protocol/channel.ts";

Deno.test("personal channels: # and a sub, at most 255 characters, no control characters", () => {
  assert.equal(isPersonalChannel("#alice"), true);
  assert.equal(isPersonalChannel("#alice@example.com"), true);
  assert.equal(isPersonalChannel("#a:b c*"), true);
  assert.equal(isPersonalChannel("#"), false);
  assert.equal(isPersonalChannel("alice"), false);
  assert.equal(isPersonalChannel("#a\u0000"), false);
  assert.equal(isPersonalChannel("#a\u007f"), false);
  assert.equal(isPersonalChannel(`#${"a".repeat(254)}`), true);
  assert.equal(isPersonalChannel(`#${"a".repeat(255)}`), false);
  assert.equal(personalOwner("#alice"), "alice");
  assert.equal(personalOwner("room1"), null);
  assert.equal(isChannel("#alice") && isChannel("room1"), true);
});

Deno.test("patterns: * one segment anywhere, > only last; malformed ones are not patterns", () => {
  for (const pattern of ["*", ">", "updates:*", "updates:>", "a:*:b", "*:*"]) {
    assert.equal(isPattern(pattern), true, pattern);
    assert.equal(hasWildcard(pattern), true, pattern);
  }
  for (
    const name of [
      "a:>:b",
      "**",
      "a::*",
      "a:*x",
      ":*",
      "*:",
      "",
      "room1",
      "a:>>",
    ]
  ) {
    assert.equal(isPattern(name), false, name);
  }
  assert.equal(hasWildcard("room1"), false);
  assert.equal(globOf("a:*:>"), "a:*:*");
});

Deno.test("covers: grants over channels and over patterns", () => {
  assert.equal(covers("updates:*", "updates:a"), true);
  assert.equal(covers("updates:*", "updates:a:b"), false);
  assert.equal(covers("updates:*", "updates"), false);
  assert.equal(covers("updates:>", "updates:a:b"), true);
  assert.equal(covers("updates:>", "updates"), false);
  assert.equal(covers("updates:>", "updates:*"), true);
  assert.equal(covers("updates:>", "updates:*:>"), true);
  assert.equal(covers("updates:*", "updates:>"), false);
  assert.equal(covers("updates:a", "updates:*"), false);
  assert.equal(covers("*:b", "a:b"), true);
  assert.equal(covers("room1", "room1"), true);
});

/**
 * Every channel of up to five segments over a tiny alphabet: one more than
 * the longest pattern below, so a finite set decides every question.
 */
const SEGMENTS = ["a", "b"];
const CHANNELS = [1, 2, 3, 4, 5].flatMap((length) => {
  let names = [""];
  for (let i = 0; i < length; i++) {
    names = names.flatMap((prefix) =>
      SEGMENTS.map((segment) =>
        prefix === "" ? segment : `${prefix}:${segment}`
      )
    );
  }
  return names;
});

/** Does `pattern` match `channel`, by definition (a brute-force reading of SPEC §9)? */
function matchesByDefinition(pattern: string, channel: string): boolean {
  const p = pattern.split(":");
  const c = channel.split(":");
  if (p.at(-1) === ">") {
    return c.length >= p.length &&
      p.slice(0, -1).every((segment, i) => segment === "*" || segment === c[i]);
  }
  return p.length === c.length &&
    p.every((segment, i) => segment === "*" || segment === c[i]);
}

const pattern = fc.array(fc.constantFrom("a", "b", "*"), {
  minLength: 1,
  maxLength: 3,
}).chain((segments) =>
  fc.boolean().map((rest) => [...segments, ...(rest ? [">"] : [])].join(":"))
);

Deno.test("property: covers(grant, pattern) holds exactly when every channel the pattern matches, the grant matches", () => {
  fc.assert(
    fc.property(pattern, pattern, (grant, asked) => {
      const expected = CHANNELS
        .filter((channel) => matchesByDefinition(asked, channel))
        .every((channel) => matchesByDefinition(grant, channel));
      assert.equal(covers(grant, asked), expected, `${grant} ⊇ ${asked}`);
      for (const channel of CHANNELS) {
        assert.equal(
          covers(grant, channel),
          matchesByDefinition(grant, channel),
          `${grant} ∋ ${channel}`,
        );
      }
    }),
    { numRuns: 500 },
  );
});
