/**
 * Channel names: the original's rule, checked in one linear pass; personal
 * channels (`#<sub>`) and patterns (`updates:*`, `updates:>`) of SPEC §9,
 * and how grants and patterns match, all linear-time.
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

/** Segment wildcards: `*` matches one segment; a last `>` matches one or more. */
const ONE = "*";
const REST = ">";

/**
 * True when `name` is a personal channel (SPEC §9): `#` and a user's `sub`,
 * at most 255 characters, no control characters. One pass, no regex
 * backtracking: a `sub` may be an e-mail address, or anything else.
 *
 * @example
 * ```ts
 * isPersonalChannel("#alice@example.com"); // true
 * isPersonalChannel("#"); // false
 * ```
 */
export function isPersonalChannel(name: string): boolean {
  const length = name.length;
  if (
    length < 2 || length > MAX_CHANNEL_LENGTH || name.charCodeAt(0) !== 0x23
  ) {
    return false;
  }
  for (let i = 1; i < length; i++) {
    const code = name.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return false;
  }
  return true;
}

/** The user a personal channel belongs to, or `null` for any other channel. */
export function personalOwner(name: string): string | null {
  return isPersonalChannel(name) ? name.slice(1) : null;
}

/**
 * True when `name` is a channel pattern (SPEC §9): segments as in a channel
 * name, at least one of them `*`, or a last one `>`. `a:>:b`, `**` and empty
 * segments are not.
 *
 * @example
 * ```ts
 * isPattern("updates:*"); // true
 * isPattern("updates:>"); // true
 * isPattern("updates"); // false: a channel
 * isPattern("a:>:b"); // false
 * ```
 */
export function isPattern(name: string): boolean {
  if (name.length === 0 || name.length > MAX_CHANNEL_LENGTH) return false;
  const segments = name.split(":");
  let wildcards = 0;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] ?? "";
    if (segment === ONE || (segment === REST && i === segments.length - 1)) {
      wildcards++;
    } else if (!isValidChannelName(segment)) {
      return false;
    }
  }
  return wildcards > 0;
}

/**
 * True when every channel `pattern` matches is also matched by `grant`
 * (both may hold wildcards; a plain channel matches only itself). Used both
 * to match a channel against a grant or a pattern subscription and to check
 * that a pattern subscription is covered by a grant. Linear in the number
 * of segments.
 *
 * @example
 * ```ts
 * covers("updates:*", "updates:a"); // true
 * covers("updates:*", "updates:a:b"); // false
 * covers("updates:>", "updates:a:b"); // true
 * covers("updates:>", "updates:*"); // true: a pattern within the grant
 * covers("updates:*", "updates:>"); // false: the pattern reaches further
 * ```
 */
export function covers(grant: string, pattern: string): boolean {
  const granted = grant.split(":");
  const asked = pattern.split(":");
  for (let i = 0; i < granted.length; i++) {
    const segment = granted[i];
    if (segment === REST) return asked.length > i;
    const wanted = asked[i];
    if (wanted === undefined || wanted === REST) return false;
    if (segment !== ONE && segment !== wanted) return false;
  }
  return granted.length === asked.length;
}

/** True when `name` holds a wildcard segment (a grant or subscription pattern rather than a channel). */
export function hasWildcard(name: string): boolean {
  return name.split(":").some((segment) => segment === ONE || segment === REST);
}

/**
 * True when `name` is one channel (a channel name or a personal channel):
 * what can be published to, read and counted, as opposed to a pattern.
 */
export function isChannel(name: string): boolean {
  return isValidChannelName(name) || isPersonalChannel(name);
}

/**
 * A pattern as a glob (`*` for any run of characters, colons included): it
 * matches every channel the pattern does, and more. What a node subscribes
 * to in Redis; the hub keeps only the channels that match.
 *
 * @example
 * ```ts
 * import { globOf } from "./channel.ts";
 *
 * globOf("updates:>"); // "updates:*"
 * ```
 */
export function globOf(pattern: string): string {
  return pattern.split(":").map((segment) => segment === REST ? ONE : segment)
    .join(":");
}
