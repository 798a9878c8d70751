/**
 * Local fan-out: which subscriptions of this node listen to which channel,
 * their `seq` counters, and the one serialisation per message.
 *
 * `deliver` is the hot path. It builds the broadcast frame once, as the text
 * before and after `seq`, and splices each recipient's `seq` between them:
 * `O(subscribers)` string joins per message and no per-recipient
 * `JSON.stringify`.
 *
 * Recovery without gaps or duplicates: a subscription that recovers is added
 * *before* history is read and holds live messages back until
 * {@linkcode Hub.activate} has replayed history; live messages the replay
 * already contained are then skipped by id. Every message published after
 * `since` is thus in the replay, or held back, or both, and delivered once.
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
  /** The subscription, as the reducer created it. */
  readonly subscription: Subscription;
  /** The connection its frames go to. */
  readonly recipient: Recipient;
  /** The `seq` of the last message counted for this subscription. */
  readonly seq: number;
}

interface MutableEntry extends HubEntry {
  seq: number;
  /** Live messages held back while the subscription recovers; `null` once live. */
  pending: Message[] | null;
}

/** Called when a channel gains its first local subscriber or loses its last. */
export type ChannelListener = (channel: string, active: boolean) => void;

/**
 * Builds the text of a broadcast frame around its `seq`: `head + seq + tail`
 * is the whole frame, with params (`BroadcastParams` in `src/protocol/frames.ts`) in the order
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

/** A channel's local subscriptions by id, and the last position delivered on it. */
interface ChannelEntries extends Map<string, MutableEntry> {
  lastPosition?: number;
}

/**
 * Channel → subscriptions of this node: the fan-out, and the `seq` of each
 * subscription. Which subscriptions a connection holds is the reducer's
 * record; the hub is told by the shell's `subscribe`, `activate` and
 * `unsubscribe` effects.
 *
 * @example
 * ```ts
 * import { Hub } from "./hub.ts";
 *
 * const hub = new Hub();
 * const subscription = { id: "c1.1", channel: "room1" };
 * hub.add(subscription, { deliver: (frame) => console.log(frame) });
 * hub.deliver({
 *   id: "1-0",
 *   createTime: "2026-01-01T00:00:00.000Z",
 *   channel: "room1",
 *   event: "e",
 *   payloadJson: "1",
 * });
 * hub.remove(subscription);
 * ```
 */
export class Hub {
  readonly #channels = new Map<string, ChannelEntries>();
  #onChannel: ChannelListener | undefined;
  #subscriptions = 0;
  #delivered = 0;

  /**
   * Calls `listener` when a channel gains its first local subscriber or loses
   * its last (the engine listens only to channels this node needs).
   */
  onChannel(listener: ChannelListener): void {
    this.#onChannel = listener;
  }

  /**
   * Registers a subscription; its first message will carry `seq` 1. With
   * `recovering`, live messages are held back until {@linkcode activate}.
   */
  add(
    subscription: Subscription,
    recipient: Recipient,
    options: { readonly recovering?: boolean } = {},
  ): HubEntry {
    const entry: MutableEntry = {
      subscription,
      recipient,
      seq: 0,
      pending: options.recovering === true ? [] : null,
    };
    let entries = this.#channels.get(subscription.channel);
    if (entries === undefined) {
      entries = new Map<string, MutableEntry>();
      this.#channels.set(subscription.channel, entries);
      this.#onChannel?.(subscription.channel, true);
    }
    entries.set(subscription.id, entry);
    this.#subscriptions++;
    return entry;
  }

  /** Forgets a subscription; removing one twice, or one never added, is harmless. */
  remove(subscription: Subscription): void {
    const channel = subscription.channel;
    const entries = this.#channels.get(channel);
    if (entries === undefined || !entries.delete(subscription.id)) return;
    this.#subscriptions--;
    if (entries.size === 0) {
      this.#channels.delete(channel);
      this.#onChannel?.(channel, false);
    }
  }

  /**
   * Fans one message out to every local subscriber of its channel, in call
   * order. When its `position` jumps past messages this node never received
   * (the engine lost them), `seq` jumps as well, so subscribers see the gap.
   */
  deliver(message: Message): void {
    const entries = this.#channels.get(message.channel);
    if (entries === undefined) return;
    let step = 1;
    if (message.position !== undefined) {
      const last = entries.lastPosition;
      if (last !== undefined && message.position > last + 1) {
        step += message.position - last - 1;
      }
      entries.lastPosition = message.position;
    }
    const [head, tail] = broadcastParts(message);
    for (const entry of entries.values()) {
      if (entry.pending !== null) {
        entry.pending.push(message);
        continue;
      }
      entry.seq += step;
      this.#delivered++;
      try {
        entry.recipient.deliver(head + entry.seq + tail);
      } catch {
        // A recipient must not throw; if one does, the others still get the message.
      }
    }
  }

  /**
   * Ends a recovery: delivers `replay` (history after `since`, oldest first),
   * then the live messages held back that the replay did not contain, and
   * makes the subscription live. Harmless for a removed or live subscription.
   */
  activate(subscription: Subscription, replay: readonly Message[]): void {
    const live = this.#channels.get(subscription.channel)?.get(subscription.id);
    if (live === undefined) return;
    const pending = live.pending;
    if (pending === null) return;
    live.pending = null;
    const replayed = new Set<string>();
    for (const message of replay) {
      replayed.add(message.id);
      this.#deliverOne(live, message);
    }
    for (const message of pending) {
      if (!replayed.has(message.id)) this.#deliverOne(live, message);
    }
  }

  #deliverOne(entry: MutableEntry, message: Message): void {
    const [head, tail] = broadcastParts(message);
    entry.seq++;
    this.#delivered++;
    try {
      entry.recipient.deliver(head + entry.seq + tail);
    } catch {
      // As in deliver: one recipient's failure is its own.
    }
  }

  /** How many channels have at least one local subscriber. */
  get channelCount(): number {
    return this.#channels.size;
  }

  /** Broadcasts handed to recipients so far (a recipient may still drop one). */
  get delivered(): number {
    return this.#delivered;
  }

  /** How many subscriptions this node holds. */
  get subscriptionCount(): number {
    return this.#subscriptions;
  }
}
