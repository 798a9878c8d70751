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
import { utf8ByteLength } from "./size.ts";

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

const NO_SCOPES: ReadonlySet<Scope> = new Set();
const PUBLISH_ONLY: ReadonlySet<Scope> = new Set(["publish"]);
const BOTH_SCOPES: ReadonlySet<Scope> = new Set(["subscribe", "publish"]);

/** The set for a `scope` claim, shared: each connection would otherwise hold its own Set. */
function scopeSet(scope: readonly string[] | undefined): ReadonlySet<Scope> {
  if (scope === undefined) return DEFAULT_SCOPES;
  const subscribe = scope.includes("subscribe");
  const publish = scope.includes("publish");
  if (subscribe) return publish ? BOTH_SCOPES : DEFAULT_SCOPES;
  return publish ? PUBLISH_ONLY : NO_SCOPES;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
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
  const authentication = {
    subject: sub,
    channels: new Set(authorizedChannels),
    scopes: scopeSet(scope),
    expiresAt: exp * 1000,
  };
  if (info === undefined) return ok(authentication);
  const infoJson = isPlainObject(info) ? JSON.stringify(info) : undefined;
  if (infoJson === undefined || utf8ByteLength(infoJson) > MAX_INFO_BYTES) {
    return fail(
      "InvalidArgument",
      `token claim info must be a JSON object of at most ${MAX_INFO_BYTES} bytes`,
    );
  }
  return ok({ ...authentication, info: infoJson });
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
