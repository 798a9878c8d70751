/**
 * Namespaces (SPEC §10): what a channel may do, by its first segment.
 * `chat:room1` is in namespace `chat`; a channel without a namespace of its
 * own (or a personal channel, or a pattern) has the server's defaults.
 *
 * Each namespace's policy is built once, at start; finding a channel's is a
 * look-up of its first segment, the same object every time.
 *
 * @module
 */

/** What a channel may do. */
export interface ChannelPolicy {
  /** Messages kept for recovery and `history`. */
  readonly historySize: number;
  /** How long they are kept, in seconds. */
  readonly historyTtlSeconds: number;
  /** Whether subscriptions are presence members. */
  readonly presence: boolean;
  /** Whether subscriptions may ask for `join` and `leave`. */
  readonly joinLeave: boolean;
  /** Whether tokens with `publish` may publish (REST always may). */
  readonly clientPublish: boolean;
  /** The most subscriptions the channel may have at once (0: no limit). */
  readonly maxSubscribers: number;
}

/** SPEC §4's defaults for every channel: what a server without settings does. */
export const DEFAULT_CHANNEL_POLICY: ChannelPolicy = {
  historySize: 1000,
  historyTtlSeconds: 300,
  presence: true,
  joinLeave: true,
  clientPublish: true,
  maxSubscribers: 0,
};

/**
 * The policies of every namespace, and the defaults.
 *
 * @example
 * ```ts
 * import { Namespaces } from "./namespaces.ts";
 *
 * const namespaces = new Namespaces({
 *   historySize: 1000, historyTtlSeconds: 300, presence: true,
 *   joinLeave: true, clientPublish: true, maxSubscribers: 0,
 * }, { chat: { historySize: 50, clientPublish: false } });
 * namespaces.policyOf("chat:room1").historySize; // 50
 * namespaces.policyOf("room1").historySize; // 1000
 * ```
 */
export class Namespaces {
  /** The policy of channels outside every namespace. */
  readonly defaults: ChannelPolicy;
  readonly #policies: ReadonlyMap<string, ChannelPolicy>;

  /** Each namespace's settings over `defaults`. */
  constructor(
    defaults: ChannelPolicy,
    namespaces: Readonly<Record<string, Partial<ChannelPolicy>>> = {},
  ) {
    this.defaults = defaults;
    this.#policies = new Map(
      Object.entries(namespaces).map((
        [name, settings],
      ) => [name, { ...defaults, ...settings }]),
    );
  }

  /** The policy of `channel` (a channel or a pattern). */
  policyOf(channel: string): ChannelPolicy {
    if (this.#policies.size === 0) return this.defaults;
    const colon = channel.indexOf(":");
    if (colon <= 0) return this.defaults;
    return this.#policies.get(channel.slice(0, colon)) ?? this.defaults;
  }
}
