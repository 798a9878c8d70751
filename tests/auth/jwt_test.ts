/** JWT verification: HS256 only, audience, exp required, iat, leeway. */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHmac, generateKeyPairSync } from "node:crypto";
import { type Algorithm, createSigner } from "fast-jwt";
import { mintToken, TokenVerifier } from "../../src/auth/jwt.ts";

const SECRET = "jwt-test-secret-0123456789abcdef01234";
const NOW = Date.parse("2026-06-01T00:00:00Z");
const NOW_S = NOW / 1000;
const verifier = new TokenVerifier(SECRET);

function sign(
  claims: Record<string, unknown>,
  algorithm: Algorithm = "HS256",
  key: string = SECRET,
): string {
  return createSigner({ key, algorithm, clockTimestamp: NOW })(claims);
}

const base64url = (text: string) => Buffer.from(text).toString("base64url");

/** An HS256 token of claims no signer would write (e.g. a string `iat`). */
function craft(claims: Record<string, unknown>): string {
  const input = `${base64url(JSON.stringify({ alg: "HS256" }))}.${
    base64url(JSON.stringify(claims))
  }`;
  return `${input}.${
    createHmac("sha256", SECRET).update(input).digest("base64url")
  }`;
}

const good = {
  sub: "alice",
  aud: "broadcaster",
  exp: NOW_S + 60,
  iat: NOW_S,
  authorizedChannels: ["room1"],
};

async function reasonFor(token: string, now = NOW): Promise<string | null> {
  const outcome = await verifier.verify(token, now);
  return outcome.ok ? null : outcome.reason;
}

Deno.test("a valid HS256 token yields its claims", async () => {
  const outcome = await verifier.verify(await sign(good), NOW);
  assert.ok(outcome.ok);
  assert.equal(outcome.claims.sub, "alice");
  assert.deepEqual(outcome.claims.authorizedChannels, ["room1"]);
});

Deno.test("an audience array containing broadcaster is accepted", async () => {
  assert.equal(
    await reasonFor(await sign({ ...good, aud: ["x", "broadcaster"] })),
    null,
  );
});

Deno.test("alg none is refused", async () => {
  const header = base64url(JSON.stringify({ alg: "none", typ: "JWT" }));
  const body = base64url(JSON.stringify(good));
  assert.match(
    (await reasonFor(`${header}.${body}.`)) ?? "accepted",
    /algorithm not allowed|malformed/,
  );
});

Deno.test("HS512 and HS384, even with the right secret, are refused", async () => {
  for (const alg of ["HS512", "HS384"] as const) {
    assert.equal(
      await reasonFor(await sign(good, alg)),
      "token algorithm not allowed: only HS256 is accepted",
    );
  }
});

Deno.test("RS256 is refused", async () => {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const token = sign(
    good,
    "RS256",
    privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  );
  assert.equal(
    await reasonFor(token),
    "token algorithm not allowed: only HS256 is accepted",
  );
});

Deno.test("a wrong secret is refused", async () => {
  const other = "another-secret-0123456789abcdef";
  assert.equal(
    await reasonFor(await sign(good, "HS256", other)),
    "token signature invalid",
  );
});

Deno.test("a missing or foreign audience is refused", async () => {
  const { aud: _, ...noAudience } = good;
  assert.match((await reasonFor(await sign(noAudience))) ?? "", /audience|aud/);
  assert.equal(
    await reasonFor(await sign({ ...good, aud: "other" })),
    'token audience must include "broadcaster"',
  );
});

Deno.test("exp is required", async () => {
  const { exp: _, ...noExpiry } = good;
  assert.equal(
    await reasonFor(await sign(noExpiry)),
    "token claim exp is required",
  );
});

Deno.test("exp has a 30 s leeway, and not more, in whole seconds", async () => {
  assert.equal(await reasonFor(sign({ ...good, exp: NOW_S - 29 })), null);
  assert.equal(
    await reasonFor(sign({ ...good, exp: NOW_S - 30 })),
    "token expired",
  );
  // Later within the same second: the same answer.
  assert.equal(
    await reasonFor(sign({ ...good, exp: NOW_S - 29 }), NOW + 999),
    null,
  );
  const token = await sign({ ...good, exp: NOW_S - 20 });
  assert.equal(await reasonFor(token), null);
  assert.equal(
    await reasonFor(await sign({ ...good, exp: NOW_S - 31 })),
    "token expired",
  );
});

Deno.test("iat in the future beyond the leeway is refused; within it accepted", async () => {
  assert.equal(await reasonFor(await sign({ ...good, iat: NOW_S + 20 })), null);
  assert.equal(
    await reasonFor(await sign({ ...good, iat: NOW_S + 120 })),
    "token claim iat is in the future",
  );
  assert.equal(
    await reasonFor(craft({ ...good, iat: "yesterday" })),
    "token claim iat is invalid",
  );
});

Deno.test("garbage is refused without echoing it", async () => {
  for (const token of ["", "x", "a.b.c", "secret-looking-value.x.y"]) {
    const reason = await reasonFor(token);
    assert.ok(reason !== null);
    assert.ok(!reason.includes("secret-looking"));
  }
});

Deno.test("mintToken produces tokens the verifier accepts", async () => {
  const token = mintToken(SECRET, {
    sub: "bob",
    authorizedChannels: ["a", "b"],
    scope: ["publish"],
    ttlSeconds: 60,
  }, NOW);
  const outcome = await verifier.verify(token, NOW);
  assert.ok(outcome.ok);
  assert.equal(outcome.claims.sub, "bob");
  assert.deepEqual(outcome.claims.scope, ["publish"]);
  assert.equal(outcome.claims.exp, NOW_S + 60);
});
