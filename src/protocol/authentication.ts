/**
 * What a verified token grants: who, which channels, which scopes, until when.
 *
 * Signature, algorithm, audience and times are checked by `src/auth/jwt.ts`
 * before the claims get here; this module turns the claims into permissions,
 * purely, so the reducer and the upgrade path apply the same rules.
 *
 * @module
 */

import { covers, hasWildcard, personalOwner } from "./channel.ts";
import { fail, ok, type Result } from "./errors.ts";
import { isRecord } from "./schema.ts";
import { utf8ByteLength } from "./size.ts";

/** Clock skew tolerated on a token's `exp` and `iat`, in seconds. */
export const LEEWAY_SECONDS = 30;

/** How long before `exp` the server warns with `tokenExpiring`, in ms. */
export const EXPIRY_WARNING_MS = 60_000;

/**
 * The scopes a token may carry: `direct` publishes to personal channels
 * (SPEC §9), `trigger` calls the back-end (§10).
 */
export type Scope = "subscribe" | "publish" | "direct" | "trigger";

/** The credentials of an authenticated connection. */
export interface Authentication {
  /** The token's `sub`. */
  readonly subject: string;
  /** The token's `authorizedChannels` that are plain channel names. */
  readonly channels: ReadonlySet<string>;
  /** The token's `authorizedChannels` with wildcards (`updates:*`, `updates:>`). */
  readonly grants: readonly string[];
  /** What the token allows: `subscribe` and/or `publish`. */
  readonly scopes: ReadonlySet<Scope>;
  /** The token's `exp`, in epoch milliseconds. */
  readonly expiresAt: number;
  /** The token's `info` claim as JSON text, shown in presence; absent without one. */
  readonly info?: string;
}

/** The most an `info` claim may take, as JSON text in UTF-8 bytes (SPEC §8). */
export const MAX_INFO_BYTES = 1024;

/**
 * The scopes of a token without a `scope` claim. The original had no scopes
 * and let every token subscribe; publishing over the socket is new, so it must
 * be granted explicitly.
 */
export const DEFAULT_SCOPES: ReadonlySet<Scope> = new Set(["subscribe"]);

/** Scope sets by their claim, shared: each connection would otherwise hold its own Set. */
const SCOPE_SETS = new Map<string, ReadonlySet<Scope>>([[
  "subscribe",
  DEFAULT_SCOPES,
]]);

const KNOWN_SCOPES: readonly Scope[] = [
  "subscribe",
  "publish",
  "direct",
  "trigger",
];

/** The set for a `scope` claim: the scopes it names that the server knows. */
function scopeSet(scope: readonly string[] | undefined): ReadonlySet<Scope> {
  if (scope === undefined) return DEFAULT_SCOPES;
  const known = KNOWN_SCOPES.filter((name) => scope.includes(name));
  const key = known.join(",");
  let set = SCOPE_SETS.get(key);
  if (set === undefined) {
    set = new Set(known);
    SCOPE_SETS.set(key, set);
  }
  return set;
}

function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value) &&
    value.every((item) => typeof item === "string");
}

/**
 * Derives the {@linkcode Authentication} of verified claims, or the
 * `InvalidArgument` the `auth` method answers for unusable ones.
 *
 * @example
 * ```ts
 * const result = authenticationFromClaims({
 *   sub: "alice", exp: 1_900_000_000, authorizedChannels: ["room1"],
 * });
 * ```
 */
export function authenticationFromClaims(
  claims: Readonly<Record<string, unknown>>,
): Result<Authentication> {
  const { sub, authorizedChannels, scope, exp, info } = claims;
  if (typeof sub !== "string" || sub === "") {
    return fail(
      "InvalidArgument",
      "token claim sub must be a non-empty string",
    );
  }
  if (!isStringArray(authorizedChannels) || authorizedChannels.length === 0) {
    return fail(
      "InvalidArgument",
      "token claim authorizedChannels must be a non-empty array of strings",
    );
  }
  if (scope !== undefined && !isStringArray(scope)) {
    return fail(
      "InvalidArgument",
      "token claim scope must be an array of strings",
    );
  }
  if (typeof exp !== "number") {
    return fail("InvalidArgument", "token claim exp must be a number");
  }
  const grants = authorizedChannels.filter(hasWildcard);
  const authentication = {
    subject: sub,
    channels: new Set(
      grants.length === 0
        ? authorizedChannels
        : authorizedChannels.filter((channel) => !hasWildcard(channel)),
    ),
    grants,
    scopes: scopeSet(scope),
    expiresAt: exp * 1000,
  };
  if (info === undefined) return ok(authentication);
  const infoJson = isRecord(info) ? JSON.stringify(info) : undefined;
  if (infoJson === undefined || utf8ByteLength(infoJson) > MAX_INFO_BYTES) {
    return fail(
      "InvalidArgument",
      `token claim info must be a JSON object of at most ${MAX_INFO_BYTES} bytes`,
    );
  }
  return ok({ ...authentication, info: infoJson });
}

/**
 * True when `authentication` lets its holder use `channel` (a channel or a
 * pattern) for `scope`. A personal channel is its owner's to subscribe to
 * (and read) and anyone's with `direct` to publish to, whatever the grants;
 * any other channel must be granted, exactly or by a wildcard.
 */
export function allows(
  authentication: Authentication,
  scope: Scope,
  channel: string,
): boolean {
  const owner = personalOwner(channel);
  if (owner !== null) {
    return scope === "publish"
      ? authentication.scopes.has("direct")
      : authentication.scopes.has(scope) && owner === authentication.subject;
  }
  if (!authentication.scopes.has(scope)) return false;
  if (authentication.channels.has(channel)) return true;
  for (const grant of authentication.grants) {
    if (covers(grant, channel)) return true;
  }
  return false;
}
