/**
 * Channel names: the original's rule, checked in one linear pass.
 *
 * The Go original validated with `^([\w-]+:?)*\w$`, which backtracks
 * exponentially in JavaScript on hostile input; this scanner accepts the same
 * language (segments of `[A-Za-z0-9_-]` joined by single `:`, ending in a word
 * character) and touches each character at most once.
 *
 * @module
 */

/** The longest channel name accepted, in characters. */
export const MAX_CHANNEL_LENGTH = 255;

const COLON = 0x3a;
const DASH = 0x2d;
const UNDERSCORE = 0x5f;

function isWordCharacter(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || // 0-9
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x61 && code <= 0x7a) || // a-z
    code === UNDERSCORE;
}

/**
 * True when `name` is a valid channel name.
 *
 * @example
 * ```ts
 * isValidChannelName("user:42:inbox"); // true
 * isValidChannelName("a::b"); // false
 * ```
 */
export function isValidChannelName(name: string): boolean {
  const length = name.length;
  if (length === 0 || length > MAX_CHANNEL_LENGTH) return false;
  let segmentLength = 0;
  for (let i = 0; i < length; i++) {
    const code = name.charCodeAt(i);
    if (code === COLON) {
      if (segmentLength === 0) return false;
      segmentLength = 0;
    } else if (isWordCharacter(code) || code === DASH) {
      segmentLength++;
    } else {
      return false;
    }
  }
  return isWordCharacter(name.charCodeAt(length - 1));
}
