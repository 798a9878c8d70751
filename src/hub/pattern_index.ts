/**
 * Pattern subscriptions indexed by segment (SPEC §9): a trie whose edges are
 * a pattern's segments, `*` among them. Finding the patterns a channel
 * matches walks only the branches that match it, so the cost of a delivery
 * does not grow with the patterns that do not match.
 *
 * @module
 */

import { globOf } from "../protocol/channel.ts";

/** The patterns that end at one node of the trie: one pattern string each. */
export interface PatternGroup<T> {
  /** The pattern, as subscribed (`updates:*`, `updates:>`). */
  readonly pattern: string;
  /** Its subscriptions, by id. */
  readonly entries: Map<string, T>;
  /** `,"pattern":"<pattern>"`: what its broadcasts add, built once. */
  readonly json: string;
  /**
   * The pattern as a glob (`*` for any run of characters): it matches every
   * channel the pattern does, and more. What a node subscribes to in Redis.
   */
  readonly glob: string;
}

interface TrieNode<T> {
  readonly children: Map<string, TrieNode<T>>;
  /** Patterns that end here: the channel ends here too. */
  exact: PatternGroup<T> | undefined;
  /** Patterns that end here with `>`: one or more segments follow. */
  rest: PatternGroup<T> | undefined;
}

function node<T>(): TrieNode<T> {
  return { children: new Map(), exact: undefined, rest: undefined };
}

/**
 * Subscriptions by pattern.
 *
 * @example
 * ```ts
 * import { PatternIndex } from "./pattern_index.ts";
 *
 * const index = new PatternIndex<string>();
 * index.add("updates:*", "s1", "first");
 * index.forEachMatch("updates:a", (group) => console.log(group.pattern)); // updates:*
 * index.forEachMatch("updates:a:b", () => {}); // no match
 * ```
 */
export class PatternIndex<T> {
  readonly #root: TrieNode<T> = node();
  #size = 0;

  /** Subscriptions indexed. */
  get size(): number {
    return this.#size;
  }

  /** Indexes `value` under `pattern`; true when it is the pattern's first subscription. */
  add(pattern: string, id: string, value: T): boolean {
    const segments = pattern.split(":");
    const rest = segments.at(-1) === ">";
    if (rest) segments.pop();
    let at = this.#root;
    for (const segment of segments) {
      let next = at.children.get(segment);
      if (next === undefined) {
        next = node();
        at.children.set(segment, next);
      }
      at = next;
    }
    let group = rest ? at.rest : at.exact;
    const first = group === undefined;
    if (group === undefined) {
      group = {
        pattern,
        entries: new Map(),
        json: `,"pattern":${JSON.stringify(pattern)}`,
        glob: globOf(pattern),
      };
      if (rest) at.rest = group;
      else at.exact = group;
    }
    if (!group.entries.has(id)) this.#size++;
    group.entries.set(id, value);
    return first;
  }

  /** The subscription `id` of `pattern`, if indexed. */
  get(pattern: string, id: string): T | undefined {
    return this.group(pattern)?.entries.get(id);
  }

  /**
   * Forgets a subscription; true when it was the pattern's last. Empty
   * branches are pruned, so the trie holds only live patterns.
   */
  remove(pattern: string, id: string): boolean {
    const segments = pattern.split(":");
    const rest = segments.at(-1) === ">";
    if (rest) segments.pop();
    const path: TrieNode<T>[] = [this.#root];
    for (const segment of segments) {
      const next = path.at(-1)?.children.get(segment);
      if (next === undefined) return false;
      path.push(next);
    }
    const at = path.at(-1);
    const group = rest ? at?.rest : at?.exact;
    if (at === undefined || group === undefined || !group.entries.delete(id)) {
      return false;
    }
    this.#size--;
    if (group.entries.size > 0) return false;
    if (rest) at.rest = undefined;
    else at.exact = undefined;
    for (let i = segments.length; i > 0; i--) {
      const child = path[i];
      const parent = path[i - 1];
      if (
        child === undefined || parent === undefined ||
        child.exact !== undefined || child.rest !== undefined ||
        child.children.size > 0
      ) break;
      parent.children.delete(segments[i - 1] ?? "");
    }
    return true;
  }

  /** Calls `visit` with every group of patterns that `channel` matches. */
  forEachMatch(channel: string, visit: (group: PatternGroup<T>) => void): void {
    if (this.#size === 0) return;
    walk(this.#root, channel.split(":"), 0, visit);
  }

  /** The subscriptions of `pattern`, if it has any. */
  group(pattern: string): PatternGroup<T> | undefined {
    const segments = pattern.split(":");
    const rest = segments.at(-1) === ">";
    if (rest) segments.pop();
    let at: TrieNode<T> | undefined = this.#root;
    for (const segment of segments) {
      at = at?.children.get(segment);
      if (at === undefined) return undefined;
    }
    return rest ? at.rest : at.exact;
  }
}

function walk<T>(
  at: TrieNode<T>,
  segments: readonly string[],
  index: number,
  visit: (group: PatternGroup<T>) => void,
): void {
  if (index === segments.length) {
    if (at.exact !== undefined) visit(at.exact);
    return;
  }
  if (at.rest !== undefined) visit(at.rest);
  const segment = segments[index] ?? "";
  const literal = at.children.get(segment);
  if (literal !== undefined) walk(literal, segments, index + 1, visit);
  const any = at.children.get("*");
  if (any !== undefined) walk(any, segments, index + 1, visit);
}
