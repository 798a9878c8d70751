/**
 * API keys for REST: parsed from the `Authorization` header and compared in
 * constant time.
 *
 * Both sides are hashed to a fixed length before `timingSafeEqual`, so neither
 * a key's contents nor its length can be learnt from response times, and every
 * configured key is compared on every request.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";

function digest(key: string): Uint8Array {
  return createHash("sha256").update(key).digest();
}

/**
 * The credential in an `Authorization` header: `Bearer <key>`, or the bare key
 * as the original also accepts. `null` when the header is absent or empty.
 *
 * @example
 * ```ts
 * credentialFromHeader("Bearer k1"); // "k1"
 * credentialFromHeader("k1"); // "k1"
 * ```
 */
export function credentialFromHeader(header: string | null): string | null {
  if (header === null) return null;
  const trimmed = header.trim();
  const match = /^bearer(?:\s+|$)/i.exec(trimmed);
  const credential = match === null ? trimmed : trimmed.slice(match[0].length);
  return credential === "" ? null : credential;
}

/**
 * The configured API keys, held as digests.
 *
 * @example
 * ```ts
 * const keys = new ApiKeys(["k1", "k2"]);
 * keys.accepts("k2"); // true
 * ```
 */
export class ApiKeys {
  readonly #digests: readonly Uint8Array[];

  constructor(keys: readonly string[]) {
    this.#digests = keys.map(digest);
  }

  /** True when `candidate` is one of the keys; takes the same time whichever. */
  accepts(candidate: string): boolean {
    const candidateDigest = digest(candidate);
    let found = false;
    for (const known of this.#digests) {
      // No early exit: every key is compared whatever the outcome.
      found = timingSafeEqual(candidateDigest, known) || found;
    }
    return found;
  }
}
