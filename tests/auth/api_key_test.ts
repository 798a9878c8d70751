/** API keys: header parsing (Bearer or bare) and comparison. */

import assert from "node:assert/strict";
import { ApiKeys, credentialFromHeader } from "../../src/auth/api_key.ts";

Deno.test("credentials come from Bearer or a bare key", () => {
  assert.equal(credentialFromHeader("Bearer k1"), "k1");
  assert.equal(credentialFromHeader("bearer   k1 "), "k1");
  assert.equal(credentialFromHeader("k1"), "k1");
  assert.equal(credentialFromHeader(null), null);
  assert.equal(credentialFromHeader(""), null);
  assert.equal(credentialFromHeader("Bearer "), null);
});

Deno.test("only configured keys are accepted, whatever their length", () => {
  const keys = new ApiKeys(["k1", "a-much-longer-key"]);
  assert.equal(keys.accepts("k1"), true);
  assert.equal(keys.accepts("a-much-longer-key"), true);
  assert.equal(keys.accepts("k2"), false);
  assert.equal(keys.accepts("k"), false);
  assert.equal(keys.accepts("k1 "), false);
  assert.equal(keys.accepts(""), false);
});
