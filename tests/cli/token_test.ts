/** `deno task token`: mints a token the server accepts; refuses bad arguments. */

import assert from "node:assert/strict";
import { TokenVerifier } from "../../src/auth/jwt.ts";

const SCRIPT = new URL("../../src/cli/token.ts", import.meta.url).pathname;
const SECRET = "cli-test-secret-0123456789abcdef012345";

function mint(args: string[], env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-env", SCRIPT, ...args],
    env: { NO_COLOR: "1", ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
}

Deno.test("mints a token from JWT_SECRET with the given claims", async () => {
  const output = await mint([
    "--sub",
    "alice",
    "--channels",
    "room1,room2",
    "--scope",
    "subscribe,publish",
    "--ttl",
    "600",
  ], { JWT_SECRET: SECRET });
  assert.equal(output.code, 0);
  const token = new TextDecoder().decode(output.stdout).trim();
  const verifier = new TokenVerifier(SECRET);
  const outcome = await verifier.verify(token, Date.now());
  assert.ok(outcome.ok);
  assert.equal(outcome.claims.sub, "alice");
  assert.deepEqual(outcome.claims.authorizedChannels, ["room1", "room2"]);
  assert.deepEqual(outcome.claims.scope, ["subscribe", "publish"]);
  assert.ok(Number(outcome.claims.exp) - Date.now() / 1000 <= 600);
});

Deno.test("refuses to run without JWT_SECRET or required flags, naming each", async () => {
  const output = await mint(["--ttl", "0"]);
  assert.equal(output.code, 2);
  const stderr = new TextDecoder().decode(output.stderr);
  for (const problem of ["JWT_SECRET", "--sub", "--channels", "--ttl"]) {
    assert.ok(stderr.includes(problem), problem);
  }
});

Deno.test("--ttl -5 gets the same clear message as --ttl abc", async () => {
  for (const ttl of ["-5", "abc", "0"]) {
    const output = await mint(["--sub", "a", "--channels", "c", "--ttl", ttl], {
      JWT_SECRET: SECRET,
    });
    assert.equal(output.code, 2, ttl);
    assert.match(
      new TextDecoder().decode(output.stderr),
      /--ttl must be a positive whole number of seconds/,
      ttl,
    );
  }
});

Deno.test("warns when the token would not work: invalid channel names, unknown scopes", async () => {
  const output = await mint([
    "--sub",
    "alice",
    "--channels",
    "room1,a b",
    "--scope",
    "subscribe,admin",
  ], { JWT_SECRET: SECRET });
  assert.equal(output.code, 0);
  const stderr = new TextDecoder().decode(output.stderr);
  assert.match(
    stderr,
    /channel "a b" is neither a channel nor a wildcard grant/,
  );
  assert.match(stderr, /scope "admin" is unknown/);
  assert.ok(!stderr.includes("room1"));
  // Wildcard grants, personal channels and every known scope are fine.
  const clean = await mint([
    "--sub",
    "alice",
    "--channels",
    "room1,updates:*,news:>,#alice",
    "--scope",
    "subscribe,publish,direct,trigger",
  ], { JWT_SECRET: SECRET });
  assert.equal(new TextDecoder().decode(clean.stderr), "");
});
