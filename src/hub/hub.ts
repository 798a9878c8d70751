/**
 * Local fan-out: which subscriptions of this node listen to which channel,
 * their `seq` counters, and the one serialisation per message.
 *
 * `deliver` is the hot path. It builds the broadcast frame once, as the text
 * before and after `seq`, and splices each recipient's `seq` between them:
 * `O(subscribers)` string joins per message and no per-recipient
 * `JSON.stringify`.
 *
 * @module
 */

import type { Message } from "../protocol/message.ts";
import type { Subscription } from "../protocol/state.ts";

/** Where the hub hands a subscription's frames: the connection that holds it. */
export interface Recipient {
  /** Sends one complete broadcast frame; must not throw. */
  deliver(frame: string): void;
}

/** A subscription as the hub tracks it; opaque outside this module but for reading. */
export interface HubEntry {
  readonly subscription: Subscription;
  readonly recipient: Recipient;
  /** The `seq` of the last message counted for this subscription. */
  readonly seq: number;
}

interface MutableEntry extends HubEntry {
  seq: number;
}

/** Called when a channel gains its first local subscriber or loses its last. */
export type ChannelListener = (channel: string, active: boolean) => void;

/**
 * Builds the text of a broadcast frame around its `seq`: `head + seq + tail`
 * is the whole frame, with params in the order
 * `id, seq, createTime, channel, event, payload`.
 */
export function broadcastParts(message: Message): [string, string] {
  const head = `{"method":"broadcast","params":{"id":${
    JSON.stringify(message.id)
  },"seq":`;
  const tail = `,"createTime":${JSON.stringify(message.createTime)},"channel":${
    JSON.stringify(message.channel)
  },"event":${
    JSON.stringify(message.event)
  },"payload":${message.payloadJson}}}`;
  return [head, tail];
}

/**
 * Channel → subscriptions of this node.
 *
 * @example
 * ```ts
 * const hub = new Hub();
 * hub.add({ id: "c1.1", channel: "room1" }, { deliver: (frame) => console.log(frame) });
 * hub.deliver({ id: "1-0", createTime: "2026-01-01T00:00:00.000Z", channel: "room1", event: "e", payloadJson: "1" });
 * ```
 */
export class Hub {
  readonly #channels = new Map<string, Set<MutableEntry>>();
  readonly #onChannel: ChannelListener | undefined;
  #subscriptions = 0;

  constructor(options: { readonly onChannel?: ChannelListener } = {}) {
    this.#onChannel = options.onChannel;
  }

  /** Registers a subscription; its first message will carry `seq` 1. */
  add(subscription: Subscription, recipient: Recipient): HubEntry {
    const entry: MutableEntry = { subscription, recipient, seq: 0 };
    let entries = this.#channels.get(subscription.channel);
    if (entries === undefined) {
      entries = new Set();
      this.#channels.set(subscription.channel, entries);
      this.#onChannel?.(subscription.channel, true);
    }
    entries.add(entry);
    this.#subscriptions++;
    return entry;
  }

  /** Forgets a subscription; removing one twice is harmless. */
  remove(entry: HubEntry): void {
    const channel = entry.subscription.channel;
    const entries = this.#channels.get(channel);
    if (entries === undefined || !entries.delete(entry as MutableEntry)) return;
    this.#subscriptions--;
    if (entries.size === 0) {
      this.#channels.delete(channel);
      this.#onChannel?.(channel, false);
    }
  }

  /** Fans one message out to every local subscriber of its channel, in call order. */
  deliver(message: Message): void {
    const entries = this.#channels.get(message.channel);
    if (entries === undefined) return;
    const [head, tail] = broadcastParts(message);
    for (const entry of entries) {
      entry.seq++;
      try {
        entry.recipient.deliver(head + entry.seq + tail);
      } catch {
        // A recipient must not throw; if one does, the others still get the message.
      }
    }
  }

  /** How many channels have at least one local subscriber. */
  get channelCount(): number {
    return this.#channels.size;
  }

  /** How many subscriptions this node holds. */
  get subscriptionCount(): number {
    return this.#subscriptions;
  }
}
