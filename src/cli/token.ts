/**
 * `deno task token`: mints a token signed with `JWT_SECRET`.
 *
 * @example
 * ```sh
 * JWT_SECRET=... deno task token --sub alice --channels room1,room2 --scope subscribe,publish
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { mintToken } from "../auth/jwt.ts";
import { DEV_ENVIRONMENT } from "../dev.ts";

const USAGE = `Mints a Broadcaster token (HS256) signed with JWT_SECRET.

Usage: deno task token --sub <subject> --channels <c1,c2> [--scope subscribe,publish] [--ttl seconds] [--dev]

  --sub       the token's subject (user id)
  --channels  comma-separated channels the token may use
  --scope     comma-separated scopes (default: subscribe)
  --ttl       lifetime in seconds (default: 3600)
  --dev       sign with the dev server's built-in secret instead of JWT_SECRET
`;

function split(value: string): string[] {
  return value.split(",").map((item) => item.trim()).filter((item) =>
    item !== ""
  );
}

/** Runs the command with `args`; returns the exit code. */
export function run(args: readonly string[]): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        sub: { type: "string" },
        channels: { type: "string" },
        scope: { type: "string", default: "subscribe" },
        ttl: { type: "string", default: "3600" },
        dev: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    console.error(`token: ${error instanceof Error ? error.message : error}`);
    console.error(USAGE);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const problems: string[] = [];
  const secret = values.dev
    ? DEV_ENVIRONMENT.JWT_SECRET
    : Deno.env.get("JWT_SECRET");
  if (secret === undefined || secret === "") {
    problems.push("JWT_SECRET is not set (for the dev server, pass --dev)");
  }
  if (values.sub === undefined || values.sub === "") {
    problems.push("--sub is required");
  }
  const channels = split(values.channels ?? "");
  if (channels.length === 0) problems.push("--channels is required");
  const ttl = Number(values.ttl);
  if (!Number.isSafeInteger(ttl) || ttl <= 0) {
    problems.push("--ttl must be a positive whole number of seconds");
  }
  if (problems.length > 0 || secret === undefined || values.sub === undefined) {
    for (const problem of problems) console.error(`token: ${problem}`);
    console.error(USAGE);
    return 2;
  }
  console.log(
    mintToken(secret, {
      sub: values.sub,
      authorizedChannels: channels,
      scope: split(values.scope),
      ttlSeconds: ttl,
    }, Date.now()),
  );
  return 0;
}

if (import.meta.main) {
  Deno.exit(run(Deno.args));
}
