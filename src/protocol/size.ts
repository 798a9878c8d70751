/**
 * Sizes in UTF-8 bytes, counted without encoding: the limits
 * (`MAX_MESSAGE_BYTES`) are in bytes, JavaScript strings in UTF-16 units.
 *
 * @module
 */

/**
 * The number of bytes `text` takes in UTF-8, without encoding it.
 *
 * @example
 * ```ts
 * import { utf8ByteLength } from "./size.ts";
 *
 * utf8ByteLength("é"); // 2
 * ```
 */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4; // a surrogate pair is one 4-byte code point
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * True when a text frame is over `maxBytes` in UTF-8 (`MAX_MESSAGE_BYTES`).
 * The shell asks before queueing a frame, so an oversized one is never held.
 *
 * @example
 * ```ts
 * import { isOversized } from "./size.ts";
 *
 * isOversized("ab", 2); // false
 * isOversized("éé", 3); // true: 4 bytes
 * ```
 */
export function isOversized(text: string, maxBytes: number): boolean {
  // UTF-16 length ≤ UTF-8 bytes ≤ 3 × length: count only when it could matter.
  return text.length > maxBytes ||
    (text.length * 3 > maxBytes && utf8ByteLength(text) > maxBytes);
}
