/**
 * JWT verification and minting with `fast-jwt`: HS256 only, audience
 * `broadcaster`, `exp` required, `iat` checked when present, 30 s leeway.
 *
 * Verification is synchronous (an HMAC and a JSON parse, about a fifth of
 * what `jose` cost per connection in `deno task bench`), returns a value,
 * never throws, and its reasons never quote the token, so they are safe to
 * send to the client and to log.
 *
 * @module
 */

import { createSigner, createVerifier, TokenError } from "fast-jwt";
import { LEEWAY_SECONDS } from "../protocol/authentication.ts";
import type { TokenOutcome } from "../protocol/effects.ts";

/** The audience every token must name. */
export const AUDIENCE = "broadcaster";

const LEEWAY_MS = LEEWAY_SECONDS * 1000;

/** The claim a fast-jwt error names, e.g. "The exp claim is required.". */
function claimOf(error: TokenError): string | undefined {
  return /\b(?:The|of) (\w+) claim/.exec(error.message)?.[1];
}

function reasonOf(error: unknown): string {
  if (!(error instanceof TokenError)) return "token malformed";
  const claim = claimOf(error);
  switch (error.code) {
    case TokenError.codes.expired:
      return "token expired";
    // An unsigned token (alg none) has no signature to check the algorithm of.
    case TokenError.codes.invalidAlgorithm:
    case TokenError.codes.missingSignature:
      return "token algorithm not allowed: only HS256 is accepted";
    case TokenError.codes.invalidSignature:
      return "token signature invalid";
    case TokenError.codes.missingRequiredClaim:
    case TokenError.codes.invalidClaimValue:
    case TokenError.codes.invalidClaimType:
      if (claim === "aud") return `token audience must include "${AUDIENCE}"`;
      return error.code === TokenError.codes.missingRequiredClaim
        ? `token claim ${claim ?? "unknown"} is required`
        : `token claim ${claim ?? "unknown"} is invalid`;
    case TokenError.codes.inactive:
      return "token claim nbf is invalid";
    default:
      return "token malformed";
  }
}

/**
 * `iat` is checked by us: fast-jwt only reads it with `maxAge`. A token
 * issued in the future (beyond the leeway) or with a non-numeric `iat` is
 * refused.
 */
function iatProblem(iat: unknown, now: number): string | null {
  if (iat === undefined) return null;
  if (typeof iat !== "number") return "token claim iat is invalid";
  return iat * 1000 > now + LEEWAY_MS
    ? "token claim iat is in the future"
    : null;
}

/**
 * Verifies tokens signed with one secret.
 *
 * @example
 * ```ts
 * import { mintToken, TokenVerifier } from "./jwt.ts";
 *
 * const secret = "0123456789abcdef0123456789abcdef";
 * const token = mintToken(secret, {
 *   sub: "alice",
 *   authorizedChannels: ["room1"],
 *   ttlSeconds: 3600,
 * }, Date.now());
 * const outcome = new TokenVerifier(secret).verify(token, Date.now());
 * if (outcome.ok) console.log(outcome.claims.sub); // "alice"
 * ```
 */
export class TokenVerifier {
  readonly #secret: string;
  /** The verifier of the current second, and that second (epoch s). */
  #verify: ((token: string) => unknown) | null = null;
  #second = Number.NaN;

  /** A verifier for tokens signed with `secret`. */
  constructor(secret: string) {
    this.#secret = secret;
  }

  /** Checks signature, algorithm, audience and times as of `now` (epoch ms). */
  verify(token: string, now: number): TokenOutcome {
    try {
      const claims: unknown = this.#verifierAt(now)(token);
      if (typeof claims !== "object" || claims === null) {
        return { ok: false, reason: "token malformed" };
      }
      const record = claims as Readonly<Record<string, unknown>>;
      const problem = iatProblem(record.iat, now);
      return problem === null
        ? { ok: true, claims: record }
        : { ok: false, reason: problem };
    } catch (error) {
      return { ok: false, reason: reasonOf(error) };
    }
  }

  /**
   * fast-jwt fixes the clock when a verifier is made; one per second keeps
   * `now` ours without building a verifier per token. Times are compared in
   * whole seconds, as JWT's are: a token is expired from the second `exp` +
   * leeway on (fast-jwt accepts `now <= exp + leeway` in milliseconds, so its
   * clock is set 1 ms into the second).
   */
  #verifierAt(now: number): (token: string) => unknown {
    const second = Math.floor(now / 1000);
    if (this.#verify === null || second !== this.#second) {
      this.#second = second;
      this.#verify = createVerifier({
        key: this.#secret,
        algorithms: ["HS256"],
        allowedAud: AUDIENCE,
        // Without "aud" here, fast-jwt accepts a token that has none.
        requiredClaims: ["exp", "aud"],
        clockTolerance: LEEWAY_MS,
        clockTimestamp: second * 1000 + 1,
        cache: false,
      });
    }
    return this.#verify;
  }
}

/** What a minted token grants. */
export interface TokenClaims {
  /** The subject: who the token is for. */
  readonly sub: string;
  /** The channels the token may use. */
  readonly authorizedChannels: readonly string[];
  /** `subscribe` and/or `publish`; without it, the token may only subscribe. */
  readonly scope?: readonly string[];
  /** Lifetime in seconds from `now`. */
  readonly ttlSeconds: number;
  /** Shown with the holder in presence (SPEC §8): a JSON object of at most 1 KiB. */
  readonly info?: Readonly<Record<string, unknown>>;
}

/**
 * Mints an HS256 token with the claims the server expects, for `deno task
 * token`, the dev banner and tests.
 *
 * @example
 * ```ts
 * import { mintToken } from "./jwt.ts";
 *
 * const token = mintToken("0123456789abcdef0123456789abcdef", {
 *   sub: "alice",
 *   authorizedChannels: ["room1"],
 *   scope: ["subscribe"],
 *   ttlSeconds: 3600,
 * }, Date.now());
 * ```
 */
export function mintToken(
  secret: string,
  claims: TokenClaims,
  now: number,
): string {
  const issuedAt = Math.floor(now / 1000);
  const payload: Record<string, unknown> = {
    sub: claims.sub,
    aud: AUDIENCE,
    iat: issuedAt,
    exp: issuedAt + claims.ttlSeconds,
    authorizedChannels: claims.authorizedChannels,
  };
  if (claims.scope !== undefined) payload.scope = claims.scope;
  if (claims.info !== undefined) payload.info = claims.info;
  const sign = createSigner({
    key: secret,
    algorithm: "HS256",
    clockTimestamp: now,
  });
  return sign(payload);
}
