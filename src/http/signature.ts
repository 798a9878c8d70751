/**
 * How the server calls back-ends (SPEC §10): a JSON POST signed with
 * `X-Broadcaster-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`.
 * WebCrypto, so it needs no dependency.
 *
 * @module
 */

/** The header's name. */
export const SIGNATURE_HEADER = "x-broadcaster-signature";

const encoder = new TextEncoder();

/**
 * Signs bodies with one secret; the key is imported once.
 *
 * @example
 * ```ts
 * import { Signer } from "./signature.ts";
 *
 * const signer = new Signer("s3cret");
 * await signer.sign('{"event":"e"}'); // "sha256=…" (64 hex digits)
 * ```
 */
export class Signer {
  readonly #key: Promise<CryptoKey>;

  /** A signer with `secret`. */
  constructor(secret: string) {
    this.#key = crypto.subtle.importKey(
      "raw",
      encoder.encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
  }

  /** The header's value for `body`. */
  async sign(body: string): Promise<string> {
    const mac = await crypto.subtle.sign(
      "HMAC",
      await this.#key,
      encoder.encode(body),
    );
    return `sha256=${
      Array.from(new Uint8Array(mac), (byte) =>
        byte.toString(16).padStart(2, "0")).join("")
    }`;
  }
}

/**
 * POSTs the JSON `body` to a back-end with its `signature` (none: unsigned),
 * giving up after `timeoutMs` (a `TimeoutError`). What every call to a
 * back-end does: webhooks and `trigger`.
 */
export function postSigned(
  url: string,
  body: string,
  signature: string | null,
  timeoutMs: number,
): Promise<Response> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
  };
  if (signature !== null) headers[SIGNATURE_HEADER] = signature;
  return fetch(url, {
    method: "POST",
    headers,
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
}
