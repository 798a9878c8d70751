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
  table { width: 100%; border-collapse: collapse; font-size: 13px; }
  th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid #eef0f4; vertical-align: top; }
  td.payload { font-family: ui-monospace, monospace; word-break: break-all; }
  tr.notice td { color: #8c5c00; background: #fff8e5; }
  #status { font-size: 13px; color: #5b6478; min-height: 1em; }
</style>
</head>
<body>
<h1>Broadcaster console <span id="state">disconnected</span></h1>
<section>
  <h2>Connection</h2>
  <label for="token">Token (JWT)</label>
  <textarea id="token" rows="3" placeholder="paste a token: deno task token --sub you --channels room1"></textarea>
  <div class="row"><button id="connect">Connect</button><button id="disconnect" class="secondary">Disconnect</button></div>
</section>
<section>
  <h2>Subscriptions</h2>
  <div class="row"><input id="channel" value="room1" aria-label="channel"><button id="subscribe">Subscribe</button></div>
  <div class="row" id="subscriptions"></div>
</section>
<section>
  <h2>Publish</h2>
  <div class="row">
    <input id="pub-channel" value="room1" aria-label="channel">
    <input id="pub-event" value="hello" aria-label="event">
    <select id="pub-via" aria-label="via"><option value="socket">over the socket</option><option value="rest">over REST</option></select>
    <input id="api-key" placeholder="API key (REST)" aria-label="API key">
  </div>
  <textarea id="pub-payload" rows="2" aria-label="payload">{"text": "hi"}</textarea>
  <div class="row"><button id="publish">Publish</button><span id="status"></span></div>
</section>
<section>
  <h2>Messages</h2>
  <table><thead><tr><th>time</th><th>channel</th><th>seq</th><th>event</th><th>payload</th><th>id</th></tr></thead>
  <tbody id="messages"></tbody></table>
</section>
<script type="application/json" id="settings">${scriptJson(settings)}</script>
<script type="module">
import { BroadcasterClient } from "./client.js";

const settings = JSON.parse(document.getElementById("settings").textContent);
const $ = (id) => document.getElementById(id);
const socketUrl = \`\${location.protocol === "https:" ? "wss" : "ws"}://\${location.host}\${settings.basePath}/websocket\`;
if (settings.token) $("token").value = settings.token;
if (settings.apiKey) $("api-key").value = settings.apiKey;

let client;
const subscriptions = new Map();

function status(text) { $("status").textContent = text; }
function showState(state) { $("state").textContent = state; $("state").className = state; }

function row(cells, notice = false) {
  const tr = document.createElement("tr");
  if (notice) tr.className = "notice";
  for (const [text, cls] of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.append(td);
  }
  $("messages").prepend(tr);
}

function notice(channel, text) {
  row([[new Date().toLocaleTimeString()], [channel], ["–"], [text], [""], [""]], true);
}

function renderSubscriptions() {
  const box = $("subscriptions");
  box.replaceChildren();
  for (const [channel, subscription] of subscriptions) {
    const chip = document.createElement("span");
    chip.className = subscription.live ? "chip live" : "chip";
    chip.title = subscription.live ? "subscribed" : "subscribing…";
    chip.textContent = channel;
    const remove = document.createElement("button");
    remove.textContent = "×";
    remove.title = "unsubscribe";
    remove.onclick = () => { subscription.unsubscribe(); subscriptions.delete(channel); renderSubscriptions(); };
    chip.append(remove);
    box.append(chip);
  }
}

function connect() {
  if (client) client.close();
  const token = $("token").value.trim();
  if (!token) { status("paste a token first"); return; }
  client = new BroadcasterClient({
    url: socketUrl,
    token: () => $("token").value.trim(),
    onStateChange: showState,
    onError: (error) => status(error.message),
  });
  showState(client.state);
  for (const channel of [...subscriptions.keys()]) subscribe(channel);
}

function subscribe(channel) {
  if (!client) { status("connect first"); return; }
  let last = 0;
  const subscription = client.subscribe(channel, (message) => {
    if (message.seq !== last + 1 && last !== 0 && message.seq !== 1) notice(channel, \`gap: seq \${last} → \${message.seq}\`);
    if (message.seq === 1 && last !== 0) notice(channel, "resubscribed: seq starts again at 1");
    last = message.seq;
    row([[new Date(message.createTime).toLocaleTimeString()], [message.channel], [String(message.seq)],
      [message.event], [JSON.stringify(message.payload), "payload"], [message.id]]);
  }, { onReset: () => notice(channel, "reset: messages were lost, reload this channel's state") });
  subscriptions.set(channel, subscription);
  renderSubscriptions();
  subscription.ready.then(
    () => { subscription.live = true; renderSubscriptions(); },
    (error) => { subscriptions.delete(channel); renderSubscriptions(); status(error.message); },
  );
}

async function publish() {
  let payload;
  try { payload = JSON.parse($("pub-payload").value || "null"); } catch { status("payload is not valid JSON"); return; }
  const channel = $("pub-channel").value.trim();
  const event = $("pub-event").value.trim();
  try {
    if ($("pub-via").value === "rest") {
      const response = await fetch(\`\${settings.basePath}/publish\`, {
        method: "POST",
        headers: { authorization: \`Bearer \${$("api-key").value.trim()}\`, "content-type": "application/json" },
        body: JSON.stringify({ channel, event, payload }),
      });
      const body = await response.json();
      status(response.ok ? \`published \${body.id} over REST\` : \`\${response.status} \${body.error.code}: \${body.error.message}\`);
    } else {
      if (!client) { status("connect first"); return; }
      const { id } = await client.publish(channel, event, payload);
      status(\`published \${id} over the socket\`);
    }
  } catch (error) {
    status(error.message);
  }
}

$("connect").onclick = connect;
$("disconnect").onclick = () => { client?.close(); client = undefined; showState("disconnected"); };
$("subscribe").onclick = () => { const channel = $("channel").value.trim(); if (channel) subscribe(channel); };
$("publish").onclick = publish;
if (settings.token) connect();
</script>
</body>
</html>
`;
}
