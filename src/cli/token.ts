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
import { isValidChannelName } from "../protocol/channel.ts";

/** The scopes the server knows. */
const SCOPES = ["subscribe", "publish"];

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

/**
 * `--ttl -5` as `--ttl=-5`: parseArgs takes `-5` for a flag, and the answer
 * must be the same as for `--ttl abc`.
 */
function negativeValues(args: readonly string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const next = args[i + 1];
    if (arg === "--ttl" && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
}

/** What the server would not accept in a token it is asked to mint. */
function warnings(channels: readonly string[], scopes: readonly string[]) {
  return [
    ...channels.filter((channel) => !isValidChannelName(channel)).map((
      channel,
    ) =>
      `channel ${
        JSON.stringify(channel)
      } is not a valid channel name: the server refuses to subscribe or publish to it`
    ),
    ...scopes.filter((scope) => !SCOPES.includes(scope)).map((scope) =>
      `scope ${JSON.stringify(scope)} is unknown (known: ${
        SCOPES.join(", ")
      }): the server ignores it`
    ),
  ];
}

/** Runs the command with `args`; returns the exit code. */
export function run(args: readonly string[]): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: negativeValues(args),
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
  const scope = split(values.scope);
  for (const warning of warnings(channels, scope)) {
    console.error(`token: warning: ${warning}`);
  }
  console.log(
    mintToken(secret, {
      sub: values.sub,
      authorizedChannels: channels,
      scope,
      ttlSeconds: ttl,
    }, Date.now()),
  );
  return 0;
}

if (import.meta.main) {
  Deno.exit(run(Deno.args));
}
