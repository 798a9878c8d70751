/**
 * Messages as they travel from a publisher through the engine to the hub.
 *
 * The payload is carried as JSON text from the moment it is validated, so it
 * is serialised once per publish and spliced into every frame that carries it.
 *
 * @module
 */

/** A message a publisher asked for, before the engine gave it an id. */
export interface NewMessage {
  /** The channel it is published to. */
  readonly channel: string;
  /** The publisher's event name. */
  readonly event: string;
  /** The payload as JSON text, serialised once at validation. */
  readonly payloadJson: string;
  /**
   * Who sent it, when a client published it to a personal channel (SPEC §9).
   * Present (as `undefined`) on every accepted message: one object shape for all.
   */
  readonly from?: string | undefined;
}

/**
 * A message the engine accepted: it has a cluster-wide unique id, a creation
 * time and its place in the channel's stream (`src/protocol/position.ts`).
 */
export interface Message extends NewMessage {
  /** Opaque to clients, unique cluster-wide: `<epoch>-<offset>`. */
  readonly id: string;
  /** RFC 3339 in UTC with milliseconds. */
  readonly createTime: string;
  /** The life of the channel's stream it belongs to. */
  readonly epoch: string;
  /**
   * Its number in the channel (1, 2, 3, …): a subscriber's `seq` follows it,
   * so a message a node or a subscriber missed shows as a gap.
   */
  readonly offset: number;
}

/**
 * Formats epoch milliseconds as the protocol's timestamp: RFC 3339, UTC, milliseconds.
 *
 * @example
 * ```ts
 * formatTimestamp(0); // "1970-01-01T00:00:00.000Z"
 * ```
 */
export function formatTimestamp(epochMilliseconds: number): string {
  return new Date(epochMilliseconds).toISOString();
}

/**
 * A message as JSON text, `{"id","createTime","channel","event","from"?,"payload"}`,
 * splicing in the payload text rather than parsing it again.
 */
export function messageJson(message: Message): string {
  return `{"id":${JSON.stringify(message.id)},"createTime":${
    JSON.stringify(message.createTime)
  },"channel":${JSON.stringify(message.channel)},"event":${
    JSON.stringify(message.event)
  }${fromJson(message)},"payload":${message.payloadJson}}`;
}

/** `{"messages":[...]}`, oldest first: the body of every history answer. */
export function messagesJson(messages: readonly Message[]): string {
  return `{"messages":[${messages.map(messageJson).join(",")}]}`;
}

/** `,"from":"<sub>"` for a direct message, else nothing. */
export function fromJson(message: NewMessage): string {
  return message.from === undefined
    ? ""
    : `,"from":${JSON.stringify(message.from)}`;
}
