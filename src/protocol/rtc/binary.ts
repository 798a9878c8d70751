/**
 * Binary frames of the Real-time Communication Service protocol:
 * `[1 byte: type][4 bytes: payload length, big-endian][payload]`. A frame is
 * checked against its own header and acknowledged with its size, type and
 * SHA-256; it carries no topic or target, so it is not relayed.
 *
 * The digest is computed here, synchronously (`node:crypto`): hashing is a
 * pure function of the bytes, so the reducer stays pure, and Web Crypto's
 * digest would need an effect and an input for a few microseconds of work.
 *
 * @module
 */

import { createHash } from "node:crypto";

/** The header: one type byte and a 32-bit length. */
export const HEADER_BYTES = 5;

/** The binary message types, by their byte. */
export const BINARY_TYPES: ReadonlyMap<number, string> = new Map([
  [0x01, "broadcast"],
  [0x02, "direct_message"],
  [0x03, "file_transfer"],
  [0x04, "stream_data"],
]);

/** A binary frame, checked: what its acknowledgement says. */
export interface BinaryReceipt {
  /** The payload's bytes. */
  readonly size: number;
  /** The type's name, e.g. `file_transfer`. */
  readonly type: string;
  /** `sha256:` and the payload's digest in hex. */
  readonly checksum: string;
}

/**
 * Reads a binary frame: its receipt, or why it is malformed.
 *
 * @example
 * ```ts
 * import { readBinary } from "./binary.ts";
 *
 * readBinary(new Uint8Array([0x03, 0, 0, 0, 2, 0x68, 0x69]));
 * // { ok: true, receipt: { size: 2, type: "file_transfer", checksum: "sha256:8f43…" } }
 * readBinary(new Uint8Array([0x03, 0, 0, 0, 9, 0x68])); // { ok: false, message: "length mismatch: …" }
 * ```
 */
export function readBinary(
  bytes: Uint8Array,
):
  | { readonly ok: true; readonly receipt: BinaryReceipt }
  | { readonly ok: false; readonly message: string } {
  if (bytes.length < HEADER_BYTES) {
    return {
      ok: false,
      message:
        `binary frame of ${bytes.length} bytes: at least ${HEADER_BYTES} (type and length) expected`,
    };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const typeByte = view.getUint8(0);
  const declared = view.getUint32(1, false);
  const payload = bytes.subarray(HEADER_BYTES);
  if (declared !== payload.length) {
    return {
      ok: false,
      message:
        `length mismatch: the header says ${declared} bytes, the payload has ${payload.length}`,
    };
  }
  const type = BINARY_TYPES.get(typeByte);
  if (type === undefined) {
    return {
      ok: false,
      message: `unknown binary message type 0x${
        typeByte.toString(16).padStart(2, "0")
      }: 0x01 to 0x04 expected`,
    };
  }
  return {
    ok: true,
    receipt: {
      size: payload.length,
      type,
      checksum: `sha256:${createHash("sha256").update(payload).digest("hex")}`,
    },
  };
}
