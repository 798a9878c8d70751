/**
 * The web console at `{BASE_PATH}/`: paste a token, subscribe, watch live
 * messages (with `seq`, and resets made visible), publish over the socket or
 * over REST. Built on the client SDK served at `{BASE_PATH}/client.js`; no
 * CDN, no external request, so it works from a `deno compile` binary and
 * offline.
 *
 * Every value from the network is rendered with `textContent`, never as HTML.
 *
 * @module
 */

import { CONSOLE_SCRIPT } from "./script.ts";

/** What the page is prefilled with (the dev server's token and key). */
export interface ConsoleSettings {
  /** `BASE_PATH`, which the page's URLs start with. */
  readonly basePath: string;
  /** A token to prefill (the dev server's). */
  readonly token?: string;
  /** An API key to prefill (the dev server's). */
  readonly apiKey?: string;
}

/** JSON that is safe inside a `<script>` element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

/**
 * The console's HTML.
 *
 * @example
 * ```ts
 * new Response(consolePage({ basePath: "/broadcaster" }), { headers: { "content-type": "text/html" } });
 * ```
 */
export function consolePage(settings: ConsoleSettings): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Broadcaster console</title>
<link rel="icon" href="./favicon.svg" type="image/svg+xml">
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2433; background: #f5f6f8; }
  body { margin: 0 auto; max-width: 1100px; padding: 16px; }
  h1 { font-size: 20px; margin: 0 0 12px; display: flex; gap: 12px; align-items: center; }
  section { background: white; border-radius: 8px; padding: 12px 16px; margin-bottom: 12px; box-shadow: 0 1px 2px #0001; }
  h2 { font-size: 14px; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .04em; color: #5b6478; }
  label { font-size: 13px; color: #5b6478; }
  input, textarea, select, button { font: inherit; font-size: 14px; padding: 6px 8px; border: 1px solid #c9ced8; border-radius: 6px; }
  textarea { width: 100%; box-sizing: border-box; font-family: ui-monospace, monospace; }
  button { background: #2f6fed; color: white; border: none; cursor: pointer; }
  button.secondary { background: #e7eaf0; color: #1d2433; }
  .row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin: 6px 0; }
  #state { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #e7eaf0; }
  #state.connected { background: #d7f5df; color: #17672f; }
  #state.connecting, #state.disconnected { background: #fff1cc; color: #7a5800; }
  #state.closed { background: #fddede; color: #8c1c1c; }
  .chip { background: #e7eaf0; border-radius: 12px; padding: 2px 4px 2px 10px; font-size: 13px; }
  .chip.live { background: #d7f5df; }
  .chip button { padding: 0 6px; margin-left: 4px; background: transparent; color: #5b6478; }
  .chip .who { color: #5b6478; }
  table { width: 100%; border-collapse: collapse; font-size: 13px; }
  th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid #eef0f4; vertical-align: top; }
  td.payload { font-family: ui-monospace, monospace; word-break: break-all; }
  tr.notice td { color: #8c5c00; background: #fff8e5; }
  .status { font-size: 13px; color: #5b6478; min-height: 1em; margin: 4px 0 0; }
  .status.error { color: #8c1c1c; }
  .field { display: flex; flex-direction: column; gap: 2px; }
  [hidden] { display: none !important; }
  #stats { font-size: 13px; color: #5b6478; margin: -6px 0 12px; min-height: 1em; }
  .table-wrap { overflow-x: auto; }
  td.id { word-break: break-all; }
  @media (max-width: 600px) {
    body { padding: 8px; }
    .row, .field { width: 100%; }
    .field input, .field select { width: 100%; box-sizing: border-box; }
    th:nth-child(6), td:nth-child(6) { display: none; }
  }
</style>
</head>
<body>
<h1>Broadcaster console <span id="state">disconnected</span></h1>
<p id="stats" aria-live="polite"></p>
<section>
  <h2>Connection</h2>
  <label for="token">Token (JWT)</label>
  <textarea id="token" rows="3" placeholder="paste a token: deno task token --sub you --channels room1"></textarea>
  <div class="row"><button id="connect">Connect</button><button id="disconnect" class="secondary">Disconnect</button></div>
  <p id="connect-status" class="status" role="status"></p>
</section>
<section>
  <h2>Subscriptions</h2>
  <div class="row">
    <span class="field"><label for="channel">Channel</label><input id="channel" value="room1"></span>
    <button id="subscribe">Subscribe</button>
  </div>
  <div class="row" id="subscriptions"></div>
  <p id="subscribe-status" class="status" role="status"></p>
</section>
<section>
  <h2>Publish</h2>
  <div class="row">
    <span class="field"><label for="pub-channel">Channel</label><input id="pub-channel" value="room1"></span>
    <span class="field"><label for="pub-event">Event</label><input id="pub-event" value="hello"></span>
    <span class="field"><label for="pub-via">Via</label><select id="pub-via"><option value="socket">the socket (token)</option><option value="rest">REST (API key)</option></select></span>
    <span class="field" id="api-key-field"><label for="api-key">API key</label><input id="api-key"></span>
  </div>
  <label for="pub-payload">Payload (JSON)</label>
  <textarea id="pub-payload" rows="2">{"text": "hi"}</textarea>
  <div class="row"><button id="publish">Publish</button></div>
  <p id="publish-status" class="status" role="status"></p>
</section>
<section>
  <h2>Channels</h2>
  <div class="row" id="channels"></div>
  <p id="channels-status" class="status" role="status"></p>
</section>
<section>
  <h2>Messages</h2>
  <div class="table-wrap">
  <table><thead><tr><th>time</th><th>channel</th><th>seq</th><th>event</th><th>payload</th><th>id</th></tr></thead>
  <tbody id="messages"></tbody></table>
  </div>
</section>
<script type="application/json" id="settings">${scriptJson(settings)}</script>
<script type="module">
${CONSOLE_SCRIPT}</script>
</body>
</html>
`;
}
