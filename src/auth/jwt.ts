/**
 * JWT verification and minting with `jose`: HS256 only, audience
 * `broadcaster`, `exp` required, `iat` checked when present, 30 s leeway.
 *
 * Verification returns a value, never throws, and its reasons never quote the
 * token, so they are safe to send to the client and to log.
 *
 * @module
 */

import { errors, jwtVerify, SignJWT } from "jose";
import { LEEWAY_SECONDS } from "../protocol/authentication.ts";
import type { TokenOutcome } from "../protocol/effects.ts";

/** The audience every token must name. */
export const AUDIENCE = "broadcaster";

const encoder = new TextEncoder();

/** Imports the HMAC key once, so no verification pays for it again. */
function importKey(
  secret: string,
  usage: "sign" | "verify",
): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [usage],
  );
}

function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "token expired";
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return "token algorithm not allowed: only HS256 is accepted";
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return "token signature invalid";
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "aud") {
      return `token audience must include "${AUDIENCE}"`;
    }
    if (error.reason === "missing") {
      return `token claim ${error.claim} is required`;
    }
    return `token claim ${error.claim} is invalid`;
  }
  return "token malformed";
}

/**
 * Verifies tokens signed with one secret.
 *
 * @example
 * ```ts
 * const verifier = await TokenVerifier.create("secret");
 * const outcome = await verifier.verify(token, Date.now());
 * if (outcome.ok) console.log(outcome.claims.sub);
 * ```
 */
export class TokenVerifier {
  readonly #key: CryptoKey;

  private constructor(key: CryptoKey) {
    this.#key = key;
  }

  /** A verifier for tokens signed with `secret`. */
  static async create(secret: string): Promise<TokenVerifier> {
    return new TokenVerifier(await importKey(secret, "verify"));
  }

  /** Checks signature, algorithm, audience and times as of `now` (epoch ms). */
  async verify(token: string, now: number): Promise<TokenOutcome> {
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: ["HS256"],
        audience: AUDIENCE,
        requiredClaims: ["exp"],
        clockTolerance: LEEWAY_SECONDS,
        currentDate: new Date(now),
      });
      // jose checks `iat` only together with maxTokenAge; a token issued in the future is refused here.
      if (
        payload.iat !== undefined &&
        payload.iat * 1000 > now + LEEWAY_SECONDS * 1000
      ) {
        return { ok: false, reason: "token claim iat is in the future" };
      }
      return { ok: true, claims: payload };
    } catch (error) {
      return { ok: false, reason: reasonOf(error) };
    }
  }
}

/** What a minted token grants. */
export interface TokenClaims {
  readonly sub: string;
  readonly authorizedChannels: readonly string[];
  readonly scope?: readonly string[];
  /** Lifetime in seconds from `now`. */
  readonly ttlSeconds: number;
}

/**
 * Mints an HS256 token with the claims the server expects, for `deno task
 * token`, the dev banner and tests.
 *
 * @example
 * ```ts
 * const token = await mintToken("secret", {
 *   sub: "alice", authorizedChannels: ["room1"], scope: ["subscribe"], ttlSeconds: 3600,
 * }, Date.now());
 * ```
 */
export async function mintToken(
  secret: string,
  claims: TokenClaims,
  now: number,
): Promise<string> {
  const issuedAt = Math.floor(now / 1000);
  const body: Record<string, unknown> = {
    authorizedChannels: claims.authorizedChannels,
  };
  if (claims.scope !== undefined) body.scope = claims.scope;
  return await new SignJWT(body)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.sub)
    .setAudience(AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + claims.ttlSeconds)
    .sign(await importKey(secret, "sign"));
}
