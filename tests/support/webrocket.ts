/**
 * Test fixture for the WebRocket protocol: two apps (vhosts) with users,
 * and a client whose frames are `{"event-name": data}` objects.
 *
 * @module
 */

import { JsonClient } from "./json_client.ts";
import { serveWithConfig, type TestServer } from "./server.ts";

/** A frame the server sent: one `{"name": value}` (or `{"err", "additional_info"}`). */
export type WebRocketFrame = Record<string, unknown>;

/** The world app's secrets: its JWT secret and API key, as its back-end holds them. */
export const WORLD = {
  jwtSecret: "world-secret-world-secret-world-secret",
  apiKey: "world-api-key-0001",
};

/** The users of the world app: joe reads and writes, reader reads, admin only manages. */
const WORLD_USERS = [
  { name: "joe", secret: "53cr37", permissions: ["READ", "WRITE"] },
  { name: "reader", secret: "r34d", permissions: ["READ"] },
  { name: "writer", secret: "wr1t3", permissions: ["WRITE"] },
  { name: "admin", secret: "4dm1n", permissions: ["MANAGE"] },
];

/** Two vhosts, `/world` and `/mars`, on one server; `world` may have a `triggerUrl`. */
export async function withVhosts(
  run: (fixture: TestServer, vhost: (path: string) => string) => Promise<void>,
  options: {
    readonly triggerUrl?: string;
    readonly env?: Record<string, string>;
  } = {},
): Promise<void> {
  await using fixture = await serveWithConfig({
    apps: [{
      id: "world",
      path: "/world",
      jwtSecret: WORLD.jwtSecret,
      apiKeys: [WORLD.apiKey],
      users: WORLD_USERS,
      ...(options.triggerUrl === undefined
        ? {}
        : { triggerUrl: options.triggerUrl }),
    }, {
      id: "mars",
      path: "/mars",
      jwtSecret: "mars-secret-mars-secret-mars-secret-mars",
      apiKeys: ["mars-api-key-00001"],
      users: [{
        name: "joe",
        secret: "m4r5",
        permissions: ["READ", "WRITE"],
      }],
    }],
  }, options.env);
  const origin = new URL(fixture.base).origin.replace(/^http/, "ws");
  await run(fixture, (path) => `${origin}${path}`);
}

/** A connected WebRocket client. */
export class WebRocketClient extends JsonClient<WebRocketFrame> {
  /** Opens `url` and waits until the socket is open. */
  static async open(url: string): Promise<WebRocketClient> {
    const client = new WebRocketClient(new WebSocket(url));
    await new Promise((resolve, reject) => {
      client.socket.addEventListener("open", resolve, { once: true });
      client.socket.addEventListener("error", reject, { once: true });
    });
    return client;
  }

  /** Opens `url` and authenticates as `user` with `secret`. */
  static async as(
    url: string,
    user: string,
    secret: string,
  ): Promise<WebRocketClient> {
    const client = await WebRocketClient.open(url);
    const answer = await client.ask({ authenticate: { user, secret } });
    if (answer.authenticated !== user) {
      throw new Error(`not authenticated: ${JSON.stringify(answer)}`);
    }
    return client;
  }

  /** Sends `frame` (an object, or text as it is). */
  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Sends `frame` and takes the next frame, whatever it is: its answer. */
  async ask(frame: unknown): Promise<WebRocketFrame> {
    const before = this.frames.values.length;
    this.send(frame);
    return await this.take(
      (candidate) => this.frames.values.indexOf(candidate) >= before,
      `the answer to ${JSON.stringify(frame).slice(0, 80)}`,
    );
  }

  /** The next frame named `name` not taken yet. */
  async next(name: string): Promise<WebRocketFrame> {
    return await this.take((frame) => name in frame, `a ${name} frame`);
  }
}
