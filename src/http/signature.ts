/**
 * What the server signs its calls to back-ends with (SPEC §10):
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
