/**
 * A test viewer of the Nova Streaming protocol
 * (`/api/v1/streams/{stream_id}/ws`): frames are kept as they arrive and
 * taken by event, so tests wait on events, never on sleeps.
 *
 * @module
 */

import type { TokenClaims } from "../../src/auth/jwt.ts";
import { JsonClient } from "./json_client.ts";
import { token } from "./server.ts";

/** A frame the server sent: exactly `{"event", "data"}`. */
export interface NovaFrame {
  readonly event: string;
  // deno-lint-ignore no-explicit-any -- frames are checked field by field with assert
  readonly data: any;
}

/** The viewer URL of stream `streamId` on a test server whose base is `base`. */
export function novaUrl(base: string, streamId: string): string {
  const url = new URL(base);
  url.protocol = "ws:";
  url.pathname = `/api/v1/streams/${streamId}/ws`;
  return url.href;
}

/** Claims of a viewer of `streamId`. */
export function viewerClaims(
  streamId: string,
  sub = "viewer-1",
): Partial<TokenClaims> {
  return {
    sub,
    authorizedChannels: [`streams:${streamId}`],
    scope: ["subscribe"],
  };
}

/** A connected viewer. */
export class NovaClient extends JsonClient<NovaFrame> {
  /**
   * Opens `url` with a test token (`claims` override its defaults) and
   * waits for `connection_established`.
   */
  static async connect(
    url: string,
    claims: Partial<TokenClaims>,
  ): Promise<NovaClient> {
    const client = new NovaClient(
      new WebSocket(`${url}?token=${token(claims)}`),
    );
    await client.next("connection_established");
    return client;
  }

  /** The data of the first `event` frame (matching `match`) not taken yet; waits for it. */
  async next(
    event: string,
    // deno-lint-ignore no-explicit-any -- as NovaFrame's data
    match: (data: any) => boolean = () => true,
    // deno-lint-ignore no-explicit-any -- as NovaFrame's data
  ): Promise<any> {
    const frame = await this.take(
      (frame) => frame.event === event && match(frame.data),
      `a ${event} frame`,
    );
    return frame.data;
  }

  /** Sends `{"event", "data"}`. */
  send(event: string, data: unknown): void {
    this.socket.send(JSON.stringify({ event, data }));
  }

  /** Events of every frame received so far, in order. */
  get events(): string[] {
    return this.frames.values.map((frame) => frame.event);
  }
}
