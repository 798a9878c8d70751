/**
 * The embedded configuration of `deno task dev`, and the banner it prints: a
 * ready-made token and copy-paste commands for a first publish.
 *
 * Everything here is for a laptop. The secret and key are public by design;
 * `deno task start` never uses them.
 *
 * @module
 */

import { mintToken } from "./auth/jwt.ts";
import type { Config } from "./config.ts";

/** The dev settings; real environment variables override each. */
export const DEV_ENVIRONMENT: Readonly<Record<string, string>> = {
  JWT_SECRET: "dev-only-secret-DO-NOT-USE-IN-PRODUCTION",
  API_KEYS: "dev-api-key",
  HOST: "127.0.0.1",
  LOG_LEVEL: "debug",
};

/** Channels the dev token may use. */
const DEV_CHANNELS = ["room1", "room2"];

/** A token for sub "dev" on the dev channels, both scopes, valid a day. */
export function devToken(config: Config): string {
  return mintToken(config.jwtSecret, {
    sub: "dev",
    authorizedChannels: DEV_CHANNELS,
    scope: ["subscribe", "publish"],
    ttlSeconds: 24 * 3600,
  }, Date.now());
}

/**
 * The dev banner: what runs where, a token valid for a day, and a `wscat` and
 * `curl` session to try it.
 */
export function devBanner(config: Config, url: URL, token: string): string {
  const wsUrl = new URL(url);
  wsUrl.protocol = "ws:";
  const apiKey = config.apiKeys[0] ?? "";
  const consoleLine = config.console
    ? `\n  Console    ${url.href}/   (open it in a browser: already signed in)`
    : "";
  const rtcLine = config.rtcPath === ""
    ? ""
    : `\n  RTC        ${
      new URL(config.rtcPath, wsUrl).href
    }?token=…   (the Real-time Communication Service protocol)`;
  const novaLine = config.novaPath === ""
    ? ""
    : `\n  Nova       ${
      new URL(config.novaPath, wsUrl).href
    }/{stream_id}/ws?token=…   (the Nova Streaming viewer protocol)`;
  return `
  Broadcaster dev server (DEV SECRET AND API KEY: never use them in production)
${consoleLine}
  WebSocket  ${wsUrl.href}/websocket${rtcLine}${novaLine}
  Publish    POST ${url.href}/publish   (API key: ${apiKey})

  A token for sub "dev" on ${
    DEV_CHANNELS.join(", ")
  }, scope subscribe+publish, valid 24 h:

    ${token}

  Try it: subscribe in one terminal ...

    npx wscat -c '${wsUrl.href}/websocket?token=${token}'
    > {"id":1,"method":"subscribe","params":{"channel":"room1"}}

  ... and publish from another:

    curl -X POST '${url.href}/publish' -H 'Authorization: Bearer ${apiKey}' \\
      -d '{"channel":"room1","event":"hello","payload":{"text":"hi"}}'
`;
}
