/**
 * `deno task token`: mints a token signed with `JWT_SECRET`.
 *
 * @example
 * ```sh
 * JWT_SECRET=... deno task token --sub alice --channels room1,room2 --scope subscribe,publish
 * (for an app of CONFIG_FILE, JWT_SECRET is that app's `jwtSecret`)
 * ```
 *
 * @module
 */

import { MAX_INFO_BYTES } from "../protocol/authentication.ts";
import { parseArgs } from "node:util";
import { mintToken } from "../auth/jwt.ts";
import { DEV_ENVIRONMENT } from "../dev.ts";
import { isChannel, isPattern } from "../protocol/channel.ts";

/** The scopes the server knows (SPEC §3, §9, §10). */
const SCOPES = ["subscribe", "publish", "direct", "trigger"];

const USAGE = `Mints a Broadcaster token (HS256) signed with JWT_SECRET.

Usage: deno task token --sub <subject> --channels <c1,c2> [--scope subscribe,publish] [--ttl seconds] [--info '{"name":"Alice"}'] [--dev]

  --sub       the token's subject (user id)
  --channels  comma-separated channels the token may use; wildcards grant
              many (updates:* one segment, updates:> one or more)
  --scope     comma-separated scopes (default: subscribe): subscribe,
              publish, direct (direct messages), trigger (the back-end)
  --ttl       lifetime in seconds (default: 3600)
  --info      a JSON object shown with the holder in presence (at most 1 KiB)
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
    ...channels.filter((channel) => !isChannel(channel) && !isPattern(channel))
      .map((
        channel,
      ) =>
        `channel ${
          JSON.stringify(channel)
        } is neither a channel nor a wildcard grant: the server grants nothing by it`
      ),
    ...scopes.filter((scope) => !SCOPES.includes(scope)).map((scope) =>
      `scope ${JSON.stringify(scope)} is unknown (known: ${
        SCOPES.join(", ")
      }): the server ignores it`
    ),
  ];
}

/** `--info` as an object; `undefined` without it, `null` when it is not a small JSON object. */
function infoOf(
  text: string | undefined,
): Record<string, unknown> | undefined | null {
  if (text === undefined) return undefined;
  try {
    const info: unknown = JSON.parse(text);
    if (typeof info !== "object" || info === null || Array.isArray(info)) {
      return null;
    }
    return new TextEncoder().encode(JSON.stringify(info)).length <=
        MAX_INFO_BYTES
      ? info as Record<string, unknown>
      : null;
  } catch {
    return null;
  }
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
        info: { type: "string" },
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
  const info = infoOf(values.info);
  if (info === null) {
    problems.push(
      `--info must be a JSON object of at most ${MAX_INFO_BYTES} bytes`,
    );
  }
  if (
    problems.length > 0 || secret === undefined || values.sub === undefined ||
    info === null
  ) {
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
      ...(info === undefined ? {} : { info }),
    }, Date.now()),
  );
  return 0;
}

if (import.meta.main) {
  Deno.exit(run(Deno.args));
}
