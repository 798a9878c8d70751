/**
 * A test client of the Real-time Communication Service protocol (`/ws`):
 * frames are collected as they arrive and taken by type, so tests wait on
 * events, never on sleeps.
 *
 * @module
 */

import type { TokenClaims } from "../../src/auth/jwt.ts";
import { JsonClient } from "./json_client.ts";
import { token } from "./server.ts";

/** A frame the server sent, parsed: `{"type", "data"}`. */
export interface RtcFrame {
  readonly type: string;
  // deno-lint-ignore no-explicit-any -- frames are checked field by field with assert
  readonly data: any;
}

/** How the token travels: `?token=`, `Authorization: Bearer`, or the subprotocol. */
export type TokenCarrier = "query" | "header" | "subprotocol";

/** The `/ws` URL of a test server whose base is `base` (`http://host:port/broadcaster`). */
export function rtcUrl(base: string): string {
  const url = new URL(base);
  url.protocol = "ws:";
  url.pathname = "/ws";
  return url.href;
}

/** A connected client of the protocol. */
export class RtcClient extends JsonClient<RtcFrame> {
  /**
   * Opens a socket to `url` with a test token (`claims` override its
   * defaults) carried as `carrier` says, and waits for the welcome.
   */
  static async connect(
    url: string,
    claims: Partial<TokenClaims> = {},
    carrier: TokenCarrier = "query",
  ): Promise<RtcClient> {
    const client = RtcClient.open(url, token(claims), carrier);
    await client.next("Status", (data) => data.status === "connected");
    return client;
  }

  /** Opens a socket without waiting for anything. */
  static open(url: string, jwt: string, carrier: TokenCarrier): RtcClient {
    switch (carrier) {
      case "query":
        return new RtcClient(new WebSocket(`${url}?token=${jwt}`));
      case "subprotocol":
        return new RtcClient(new WebSocket(url, [`access_token.${jwt}`]));
      case "header":
        return new RtcClient(
          new WebSocket(url, { headers: { authorization: `Bearer ${jwt}` } }),
        );
    }
  }

  /** Sends `{"type", "data", "id"?}`. */
  send(type: string, data: unknown, id?: string | number): void {
    this.socket.send(JSON.stringify(
      id === undefined ? { type, data } : {
        type,
        data,
        id,
      },
    ));
  }

  /**
   * The data of the first frame of `type` (matching `match`) not taken yet;
   * waits for it.
   */
  async next(
    type: string,
    // deno-lint-ignore no-explicit-any -- as RtcFrame's data
    match: (data: any) => boolean = () => true,
    // deno-lint-ignore no-explicit-any -- as RtcFrame's data
  ): Promise<any> {
    const frame = await this.take(
      (frame) => frame.type === type && match(frame.data),
      `a ${type} frame`,
    );
    return frame.data;
  }

  /** Sends a message with `id` and waits for its answer: its `Ack`, or an `Error` naming it. */
  async request(
    type: string,
    data: unknown,
    id: string,
  ): Promise<RtcFrame> {
    this.send(type, data, id);
    return await this.take(
      (frame) =>
        (frame.type === "Ack" || frame.type === "Error") &&
        (frame.data.message_id === id || frame.data.details?.message_id === id),
      `the answer to ${id}`,
    );
  }

  /** Subscribes to `topics` and waits for `Status subscribed`. */
  async subscribe(...topics: string[]): Promise<void> {
    this.send("Subscribe", { topics });
    await this.next("Status", (data) => data.status === "subscribed");
  }

  /** Types of every frame received so far, in order. */
  get types(): string[] {
    return this.frames.values.map((frame) => frame.type);
  }
}
