/**
 * Local fan-out: which subscriptions of this node listen to which channel,
 * their `seq`, and the one serialisation per message.
 *
 * `deliver` is the hot path. It builds the broadcast frame once, as the text
 * before and after `seq`, and splices each recipient's `seq` between them:
 * `O(subscribers)` string joins per message and no per-recipient
 * `JSON.stringify`.
 *
 * A subscription's `seq` is its message's offset less the subscription's
 * base (the stream position it started after), so a message this node or
 * this subscriber missed shows as a gap by itself.
 *
 * No gaps, no duplicates, in order:
 * - A subscription is added *before* its channel's position is read, and
 *   holds live messages back until {@linkcode Hub.start} has delivered the
 *   replay; held messages the position already covered are skipped. Every
 *   message after the position is thus in the replay, held, or in history.
 * - A recipient that refuses a broadcast (its client is not reading) makes
 *   the subscription *lag*: nothing more is offered to it, so nothing
 *   overtakes what it missed. Once its backlog drains, the connection reads
 *   history from where it lagged and hands it to {@linkcode Hub.resume}, in
 *   batches, until it is live again (SPEC §7).
 *
 * @module
 */

import { fromJson, type Message } from "../protocol/message.ts";
import { type Framing, type Notice, noticeFrame } from "../protocol/notices.ts";
import type {
  StreamPosition,
  StreamRead,
  SubscriptionStart,
} from "../protocol/position.ts";
import type { Subscription } from "../protocol/state.ts";
import { PatternIndex } from "./pattern_index.ts";

/** Where the hub hands a subscription's frames: the connection that holds it. */
export interface Recipient {
  /**
   * Sends one complete broadcast frame; `false` when it had to drop it (the
   * client is not reading). Must not throw.
   */
  deliver(frame: string): boolean;
  /** A subscription of this recipient lags: it waits for its backlog to drain. */
  lagging(): void;
  /**
   * Sends a presence notification (`join`, `leave`, `occupancy`): never
   * dropped, counted against the connection's backlog like a reply.
   */
  notify(frame: string): void;
  /**
   * How its protocol frames broadcasts and notices; `undefined` for the
   * native protocol, whose broadcasts carry the subscription's `seq`.
   */
  readonly framing: Framing | undefined;
}

/** A subscription as the hub tracks it; opaque outside this module but for reading. */
export interface HubEntry {
  /** The subscription, as the reducer created it. */
  readonly subscription: Subscription;
  /** The connection its frames go to. */
  readonly recipient: Recipient;
  /** The `seq` of the last message sent on this subscription. */
  readonly seq: number;
}

interface MutableEntry extends HubEntry {
  seq: number;
  /** The stream epoch `base` counts in. */
  epoch: string;
  /** `seq` is a message's offset less this. */
  base: number;
  /** Live messages held back while it starts or catches up; `null` otherwise. */
  pending: Message[] | null;
  /** The offset of the first message it missed while lagging; 0 while in step. */
  lagFrom: number;
}

/** Called when a pattern gains its first local subscription or loses its last. */
export type PatternListener = (pattern: string, active: boolean) => void;

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
  },"event":${JSON.stringify(message.event)}${
    fromJson(message)
  },"payload":${message.payloadJson}}}`;
  return [head, tail];
}

/**
 * Channel → subscriptions of this node: the fan-out, and the `seq` of each
 * subscription. Which subscriptions a connection holds is the reducer's
 * record; the hub is told by the shell's `subscribe`, `activate`,
 * `catchUp` and `unsubscribe` effects.
 *
 * @example
 * ```ts
 * import { Hub } from "./hub.ts";
 *
 * const hub = new Hub();
 * const subscription = { id: "c1.1", channel: "room1" };
 * hub.add(subscription, {
 *   deliver: (frame) => (console.log(frame), true),
 *   lagging: () => {},
 *   notify: (frame) => console.log(frame),
 *   framing: undefined,
 * });
 * hub.start(subscription, { epoch: "e", base: 0, replay: [], end: 0 });
 * hub.deliver({
 *   id: "e-1",
 *   createTime: "2026-01-01T00:00:00.000Z",
 *   channel: "room1",
 *   event: "e",
 *   payloadJson: "1",
 *   epoch: "e",
 *   offset: 1,
 * }); // {"method":"broadcast","params":{"id":"e-1","seq":1,...}}
 * hub.remove(subscription);
 * ```
 */
export class Hub {
  readonly #channels = new Map<string, Map<string, MutableEntry>>();
  readonly #patterns = new PatternIndex<MutableEntry>();
  #onChannel: ChannelListener | undefined;
  #onPattern: PatternListener | undefined;
  #subscriptions = 0;
  #delivered = 0;

  /**
   * Calls `listener` when a channel gains its first local subscriber or loses
   * its last (the engine listens only to channels this node needs).
   */
  onChannel(listener: ChannelListener): void {
    this.#onChannel = listener;
  }

  /** Calls `listener` when a pattern gains its first local subscription or loses its last. */
  onPattern(listener: PatternListener): void {
    this.#onPattern = listener;
  }

  /**
   * Registers a subscription, holding live messages back until
   * {@linkcode start} says where it stands.
   */
  add(subscription: Subscription, recipient: Recipient): HubEntry {
    const entry: MutableEntry = {
      subscription,
      recipient,
      seq: 0,
      epoch: "",
      base: 0,
      pending: [],
      lagFrom: 0,
    };
    this.#subscriptions++;
    if (subscription.pattern === true) {
      if (this.#patterns.add(subscription.channel, subscription.id, entry)) {
        this.#onPattern?.(subscription.channel, true);
      }
      return entry;
    }
    let entries = this.#channels.get(subscription.channel);
    if (entries === undefined) {
      entries = new Map<string, MutableEntry>();
      this.#channels.set(subscription.channel, entries);
      this.#onChannel?.(subscription.channel, true);
    }
    entries.set(subscription.id, entry);
    return entry;
  }

  /** Forgets a subscription; removing one twice, or one never added, is harmless. */
  remove(subscription: Subscription): void {
    const channel = subscription.channel;
    if (subscription.pattern === true) {
      if (this.#patterns.get(channel, subscription.id) === undefined) return;
      this.#subscriptions--;
      if (this.#patterns.remove(channel, subscription.id)) {
        this.#onPattern?.(channel, false);
      }
      return;
    }
    const entries = this.#channels.get(channel);
    if (entries === undefined || !entries.delete(subscription.id)) return;
    this.#subscriptions--;
    if (entries.size === 0) {
      this.#channels.delete(channel);
      this.#onChannel?.(channel, false);
    }
  }

  /**
   * Fans one message out to every local subscriber of its channel and every
   * pattern subscription it matches, in call order: what a single-process
   * engine does with each message.
   */
  deliver(message: Message): void {
    // Nobody to tell: not even the frame is built.
    if (!this.#channels.has(message.channel) && this.#patterns.size === 0) {
      return;
    }
    const [head, tail] = broadcastParts(message);
    this.#toChannel(message, head, tail);
    this.#toPatterns(message, head, tail, undefined);
  }

  /** Fans a message out to its channel's subscribers only (a cluster engine's exact subscriptions). */
  toChannel(message: Message): void {
    if (!this.#channels.has(message.channel)) return;
    const [head, tail] = broadcastParts(message);
    this.#toChannel(message, head, tail);
  }

  /**
   * Fans a message out to the pattern subscriptions it matches; with `glob`,
   * only to those of patterns with that glob (a cluster engine receives a
   * message once per glob it matches, and each must count once).
   */
  toPatterns(message: Message, glob?: string): void {
    if (this.#patterns.size === 0) return;
    const [head, tail] = broadcastParts(message);
    this.#toPatterns(message, head, tail, glob);
  }

  #toPatterns(
    message: Message,
    head: string,
    tail: string,
    glob: string | undefined,
  ): void {
    // Patterns name channels; a personal channel (`#…`) matches none.
    if (this.#patterns.size === 0 || message.channel.startsWith("#")) return;
    this.#patterns.forEachMatch(message.channel, (group) => {
      if (glob !== undefined && group.glob !== glob) return;
      for (const entry of group.entries.values()) {
        if (entry.pending !== null) {
          entry.pending.push(message);
          continue;
        }
        this.#sendPattern(entry, message, head, group.json, tail);
      }
    });
  }

  /**
   * Sends a pattern subscription its next message. One seq across the
   * channels; a dropped broadcast still counts (a pattern has no history to
   * catch up from), so the gap shows.
   */
  #sendPattern(
    entry: MutableEntry,
    message: Message,
    head: string,
    pattern: string,
    tail: string,
  ): void {
    entry.seq++;
    this.#delivered++;
    const framing = entry.recipient.framing;
    offer(
      entry,
      framing === undefined
        ? head + entry.seq + pattern + tail
        : framing.broadcast(message),
    );
  }

  #toChannel(message: Message, head: string, tail: string): void {
    const entries = this.#channels.get(message.channel);
    if (entries === undefined) return;
    for (const entry of entries.values()) {
      if (entry.pending !== null) {
        entry.pending.push(message);
        continue;
      }
      if (entry.lagFrom !== 0) continue;
      if (entry.epoch !== message.epoch) rebase(entry, message);
      const seq = message.offset - entry.base;
      // Counted already: a node catching up may repeat what it delivered.
      if (seq <= entry.seq) continue;
      this.#delivered++;
      const framing = entry.recipient.framing;
      const frame = framing === undefined
        ? head + seq + tail
        : framing.broadcast(message);
      if (offer(entry, frame)) entry.seq = seq;
      else lag(entry, message.offset);
    }
  }

  /**
   * Hands a presence notice, framed for each protocol, to every started
   * subscription of `channel` that asked for it (`joinLeave` or
   * `occupancy`), except those of the user it is `about`; returns how many. Not on the broadcast path:
   * presence costs nothing per message.
   */
  notify(
    channel: string,
    notice: Notice,
    wants: "joinLeave" | "occupancy",
    about?: string,
  ): number {
    const entries = this.#channels.get(channel);
    if (entries === undefined) return 0;
    let observers = 0;
    for (const entry of entries.values()) {
      const { subscription } = entry;
      // Not before its subscribe is answered, and nobody hears of their own join.
      if (
        entry.epoch === "" || subscription[wants] !== true ||
        (about !== undefined && subscription.member?.user === about)
      ) continue;
      const frame = noticeFrame(entry.recipient.framing, notice);
      if (frame === null) continue;
      try {
        entry.recipient.notify(frame);
        observers++;
      } catch {
        // As in deliver: one recipient's failure is its own.
      }
    }
    return observers;
  }

  /**
   * Ends a subscription's start: delivers the replay, then the held live
   * messages after `start.end`, and makes it live. When the replay stops
   * short of `end` (it was read in batches), the subscription lags from
   * there and catches up like a slow consumer. Harmless for a removed or
   * started subscription.
   */
  start(subscription: Subscription, start: SubscriptionStart): void {
    if (subscription.pattern === true) return this.#startPattern(subscription);
    const entry = this.#entry(subscription);
    if (entry === undefined || entry.pending === null || entry.epoch !== "") {
      return;
    }
    entry.epoch = start.epoch;
    entry.base = start.base;
    this.#release(entry, start.replay, start.end);
  }

  /** A pattern subscription goes live: what was held back follows, in order. */
  #startPattern(subscription: Subscription): void {
    const group = this.#patterns.group(subscription.channel);
    const entry = group?.entries.get(subscription.id);
    if (group === undefined || entry === undefined || entry.pending === null) {
      return;
    }
    const pending = entry.pending;
    entry.pending = null;
    for (const message of pending) {
      const [head, tail] = broadcastParts(message);
      this.#sendPattern(entry, message, head, group.json, tail);
    }
  }

  /**
   * Where a lagging subscription's catch-up reads from (everything after the
   * returned position), holding live messages back from now on; `null`
   * when it is not lagging, or already catching up.
   */
  catchUp(subscription: Subscription): StreamPosition | null {
    const entry = this.#entry(subscription);
    if (entry === undefined || entry.lagFrom === 0 || entry.pending !== null) {
      return null;
    }
    entry.pending = [];
    return { epoch: entry.epoch, offset: entry.lagFrom - 1 };
  }

  /**
   * Ends a catch-up with what history held after the position
   * {@linkcode catchUp} gave (`null` when it could not be read: the
   * subscription keeps lagging). What history lost shows as a `seq` gap.
   */
  resume(subscription: Subscription, read: StreamRead | null): void {
    const entry = this.#entry(subscription);
    if (entry === undefined || entry.pending === null || entry.lagFrom === 0) {
      return;
    }
    if (read === null) {
      entry.pending = null;
      entry.recipient.lagging();
      return;
    }
    const { position } = read;
    if (position.epoch !== entry.epoch) {
      // The stream lost its history while this subscriber lagged: at least
      // one message is gone, and the next one shows it.
      entry.epoch = position.epoch;
      entry.base = position.offset - entry.seq - 1;
      this.#release(entry, [], position.offset);
      return;
    }
    this.#release(entry, read.messages, position.offset);
  }

  /** Delivers `replay`, then what was held after `end`; lags again if either is refused. */
  #release(entry: MutableEntry, replay: readonly Message[], end: number): void {
    const pending = entry.pending ?? [];
    entry.pending = null;
    entry.lagFrom = 0;
    for (const message of replay) {
      if (!this.#deliverOne(entry, message)) return;
    }
    const newest = replay.at(-1);
    if (newest !== undefined && newest.offset < end) {
      // Read in batches: the rest is in history.
      lag(entry, newest.offset + 1);
      return;
    }
    for (const message of pending) {
      if (message.epoch === entry.epoch && message.offset <= end) continue;
      if (!this.#deliverOne(entry, message)) return;
    }
  }

  /** Sends one message unless counted already; `false` once the entry lags. */
  #deliverOne(entry: MutableEntry, message: Message): boolean {
    if (entry.epoch !== message.epoch) rebase(entry, message);
    const seq = message.offset - entry.base;
    if (seq <= entry.seq) return true;
    this.#delivered++;
    const framing = entry.recipient.framing;
    let frame: string;
    if (framing === undefined) {
      const [head, tail] = broadcastParts(message);
      frame = head + seq + tail;
    } else {
      frame = framing.broadcast(message);
    }
    if (offer(entry, frame)) {
      entry.seq = seq;
      return true;
    }
    lag(entry, message.offset);
    return false;
  }

  #entry(subscription: Subscription): MutableEntry | undefined {
    return this.#channels.get(subscription.channel)?.get(subscription.id);
  }

  /** Subscriptions of `channel` on this node. */
  subscribersOf(channel: string): number {
    return this.#channels.get(channel)?.size ?? 0;
  }

  /** Pattern subscriptions on this node that `channel`'s broadcasts reach. */
  patternSubscribersOf(channel: string): number {
    if (this.#patterns.size === 0 || channel.startsWith("#")) return 0;
    let subscribers = 0;
    this.#patterns.forEachMatch(channel, (group) => {
      subscribers += group.entries.size;
    });
    return subscribers;
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

/**
 * Hands a frame to the entry's recipient: `false` when it dropped it. One
 * that throws (it must not) is passed over, so the others still get theirs.
 */
function offer(entry: MutableEntry, frame: string): boolean {
  try {
    return entry.recipient.deliver(frame);
  } catch {
    return true;
  }
}

/** The entry missed the message at `offset`: nothing more is offered until it catches up. */
function lag(entry: MutableEntry, offset: number): void {
  entry.lagFrom = offset;
  entry.recipient.lagging();
}

/**
 * The channel's stream began a new epoch (Redis lost its data) while the
 * subscription was live: `seq` counts on by one from the last message sent.
 */
function rebase(entry: MutableEntry, message: Message): void {
  entry.epoch = message.epoch;
  entry.base = message.offset - entry.seq - 1;
}
