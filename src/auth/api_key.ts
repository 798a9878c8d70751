/**
 * API keys for REST: parsed from the `Authorization` header and compared in
 * constant time.
 *
 * Every configured key is compared on every request, each over its own full
 * length whatever the candidate holds, with no early exit: the time taken
 * depends only on the keys, so neither a key's contents nor how much of it a
 * guess got right can be learnt from response times. (Hashing both sides with
 * `node:crypto` first did the same at 2.8 µs a request, a tenth of a REST
 * publish in `deno task bench`.)
 *
 * @module
 */

/**
 * Whether `candidate` equals `key`, in time that depends on `key` alone
 * (API keys here, WebRocket users' secrets elsewhere).
 *
 * @example
 * ```ts
 * import { sameKey } from "./api_key.ts";
 *
 * sameKey("53cr37", "53cr37"); // true
 * ```
 */
export function sameKey(candidate: string, key: string): boolean {
  let difference = candidate.length ^ key.length;
  for (let i = 0; i < key.length; i++) {
    // Past the candidate's end charCodeAt is NaN, and NaN | 0 is 0.
    difference |= key.charCodeAt(i) ^ (candidate.charCodeAt(i) | 0);
  }
  return difference === 0;
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
 * The configured API keys, each compared in constant time.
 *
 * @example
 * ```ts
 * const keys = new ApiKeys(["k1", "k2"]);
 * keys.accepts("k2"); // true
 * ```
 */
export class ApiKeys {
  readonly #keys: readonly string[];

  /** The keys `accepts` compares against (`API_KEYS`). */
  constructor(keys: readonly string[]) {
    this.#keys = keys;
  }

  /** True when `candidate` is one of the keys; takes the same time whichever. */
  accepts(candidate: string): boolean {
    let found = false;
    for (const key of this.#keys) {
      // No early exit: every key is compared whatever the outcome.
      found = sameKey(candidate, key) || found;
    }
    return found;
  }
}
