/**
 * What a verified token grants: who, which channels, which scopes, until when.
 *
 * Signature, algorithm, audience and times are checked by `src/auth/jwt.ts`
 * before the claims get here; this module turns the claims into permissions,
 * purely, so the reducer and the upgrade path apply the same rules.
 *
 * @module
 */

import { fail, ok, type Result } from "./errors.ts";

/** Clock skew tolerated on a token's `exp` and `iat`, in seconds. */
export const LEEWAY_SECONDS = 30;

/** How long before `exp` the server warns with `tokenExpiring`, in ms. */
export const EXPIRY_WARNING_MS = 60_000;

/** The scopes a token may carry. */
export type Scope = "subscribe" | "publish";

/** The credentials of an authenticated connection. */
export interface Authentication {
  /** The token's `sub`. */
  readonly subject: string;
  /** The token's `authorizedChannels`: exact channel names. */
  readonly channels: ReadonlySet<string>;
  readonly scopes: ReadonlySet<Scope>;
  /** The token's `exp`, in epoch milliseconds. */
  readonly expiresAt: number;
}

/**
 * The scopes of a token without a `scope` claim. The original had no scopes
 * and let every token subscribe; publishing over the socket is new, so it must
 * be granted explicitly.
 */
export const DEFAULT_SCOPES: ReadonlySet<Scope> = new Set(["subscribe"]);

/** Every combination of scopes, shared: each connection would otherwise hold its own Set. */
const SCOPE_SETS: readonly ReadonlySet<Scope>[] = [
  new Set(),
  new Set(["subscribe"]),
  new Set(["publish"]),
  new Set(["subscribe", "publish"]),
];

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
  const { sub, authorizedChannels, scope, exp } = claims;
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
  const scopes = scope === undefined ? DEFAULT_SCOPES : SCOPE_SETS[
    (scope.includes("subscribe") ? 1 : 0) +
    (scope.includes("publish") ? 2 : 0)
  ] ?? DEFAULT_SCOPES;
  return ok({
    subject: sub,
    channels: new Set(authorizedChannels),
    scopes,
    expiresAt: exp * 1000,
  });
}

/** True when `authentication` lets its holder use `channel` for `scope`. */
export function allows(
  authentication: Authentication,
  scope: Scope,
  channel: string,
): boolean {
  return authentication.scopes.has(scope) &&
    authentication.channels.has(channel);
}
