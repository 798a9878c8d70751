/**
 * The web console's script: connection, subscriptions, publishing, live
 * messages and server stats, on the client SDK served beside it. Every value
 * from the network is rendered with `textContent`, never as HTML.
 *
 * @module
 */

/** The console page's module script, as served inside the page. */
export const CONSOLE_SCRIPT: string =
  `import { BroadcasterClient, BroadcasterError } from "./client.js";

const settings = JSON.parse(document.getElementById("settings").textContent);
const $ = (id) => document.getElementById(id);
const socketUrl = \`\${location.protocol === "https:" ? "wss" : "ws"}://\${location.host}\${settings.basePath}/websocket\`;
if (settings.token) $("token").value = settings.token;
if (settings.apiKey) $("api-key").value = settings.apiKey;

let client;
/** Set when the server refused the token: no reconnecting until it is edited. */
let refused = false;
const subscriptions = new Map();

/** Each action's outcome is shown next to it. */
function say(where, text, isError = false) {
  const box = $(\`\${where}-status\`);
  box.textContent = text;
  box.className = isError ? "status error" : "status";
}
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
    const users = subscription.users ?? [];
    chip.title = subscription.live
      ? (users.length ? \`here: \${users.join(", ")}\` : "subscribed")
      : "subscribing…";
    chip.textContent = channel;
    if (subscription.live) {
      const who = document.createElement("span");
      who.className = "who";
      const shown = users.slice(0, 5).join(", ");
      who.textContent = \` · \${subscription.users?.length ?? "…"} here\${shown ? \`: \${shown}\` : ""}\${users.length > 5 ? ", …" : ""}\`;
      chip.append(who);
    }
    const remove = document.createElement("button");
    remove.textContent = "×";
    remove.title = \`unsubscribe from \${channel}\`;
    remove.onclick = () => { subscription.unsubscribe(); subscriptions.delete(channel); renderSubscriptions(); };
    chip.append(remove);
    box.append(chip);
  }
}

function disconnect() {
  client?.close();
  client = undefined;
}

function connect() {
  disconnect();
  refused = false;
  const token = $("token").value.trim();
  if (!token) { say("connect", "paste a token first", true); return; }
  say("connect", "");
  const current = new BroadcasterClient({
    url: socketUrl,
    token: () => $("token").value.trim(),
    onStateChange: (state) => { if (current === client) showState(state); },
    onNotification: (notification) => {
      if (current !== client) return;
      row([[new Date(notification.createTime).toLocaleTimeString()], ["notification"], ["–"],
        [notification.event], [JSON.stringify(notification.payload), "payload"], [""]], true);
    },
    onError: (error) => {
      if (current !== client) return;
      // Refused before it ever connected: retrying the same token cannot help.
      if (error instanceof BroadcasterError && current.state !== "connected") {
        refused = true;
        disconnect();
        showState("closed");
        say("connect", \`\${error.message}: edit the token to try again\`, true);
        return;
      }
      // A channel refused or ended: said next to Subscribe.
      say(error.code === "PermissionDenied" ? "subscribe" : "connect", error.message, true);
    },
  });
  client = current;
  for (const channel of [...subscriptions.keys()]) subscribe(channel);
}

function subscribe(channel) {
  if (!client) { say("subscribe", "connect first", true); return; }
  say("subscribe", "");
  let last = 0;
  const subscription = client.subscribe(channel, (message) => {
    if (message.seq !== last + 1 && last !== 0 && message.seq !== 1) notice(channel, \`gap: seq \${last} → \${message.seq}\`);
    if (message.seq === 1 && last !== 0) notice(channel, "resubscribed: seq starts again at 1");
    last = message.seq;
    row([[new Date(message.createTime).toLocaleTimeString()], [message.channel], [String(message.seq)],
      [message.event], [JSON.stringify(message.payload), "payload"], [message.id, "id"]]);
  }, {
    onReset: () => notice(channel, "reset: messages were lost, reload this channel's state"),
    onJoin: (event) => { notice(channel, \`\${event.user} joined\`); whoIsHere(channel, subscription); },
    onLeave: (event) => { notice(channel, \`\${event.user} left\`); whoIsHere(channel, subscription); },
  });
  subscriptions.set(channel, subscription);
  renderSubscriptions();
  subscription.ready.then(
    () => { subscription.live = true; whoIsHere(channel, subscription); },
    (error) => { subscriptions.delete(channel); renderSubscriptions(); say("subscribe", error.message, true); },
  );
}

/** Who is in the channel, shown on its chip (presence; refreshed on every join and leave). */
async function whoIsHere(channel, subscription) {
  try {
    const presence = await subscription.presence();
    subscription.users = [...new Set(presence.members.map((member) => member.user))].sort();
  } catch {
    subscription.users = undefined;
  }
  if (subscriptions.get(channel) === subscription) renderSubscriptions();
}

async function publish() {
  let payload;
  try { payload = JSON.parse($("pub-payload").value || "null"); } catch { say("publish", "payload is not valid JSON", true); return; }
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
      if (response.ok) say("publish", \`published \${body.id} over REST\`);
      else say("publish", \`\${response.status} \${body.error.code}: \${body.error.message}\`, true);
    } else {
      if (!client) { say("publish", "connect first", true); return; }
      const { id } = await client.publish(channel, event, payload);
      say("publish", \`published \${id} over the socket\`);
    }
  } catch (error) {
    say("publish", error.message, true);
  }
}

/** The API key matters only for REST publishing: shown only then. */
function showVia() {
  $("api-key-field").hidden = $("pub-via").value !== "rest";
}

/** Live numbers from \`/metrics\`, every 2 s; with METRICS_TOKEN set it says so. */
let lastPublished;
async function refreshStats() {
  try {
    const response = await fetch(\`\${settings.basePath}/metrics\`);
    if (!response.ok) {
      $("stats").textContent = response.status === 401 ? "server stats: /metrics needs METRICS_TOKEN" : "";
      return;
    }
    const text = await response.text();
    const value = (name) => Number(new RegExp(\`^\${name} (\\\\S+)$\`, "m").exec(text)?.[1] ?? 0);
    const published = [...text.matchAll(/^broadcaster_messages_published_total\\{[^}]*\\} (\\S+)$/gm)]
      .reduce((sum, match) => sum + Number(match[1]), 0);
    const now = performance.now();
    const rate = lastPublished === undefined ? 0 : (published - lastPublished.count) / ((now - lastPublished.at) / 1000);
    lastPublished = { count: published, at: now };
    const count = (n, noun) => \`\${n} \${noun}\${n === 1 ? "" : "s"}\`;
    $("stats").textContent = \`\${count(value("broadcaster_connections"), "connection")} · \${count(value("broadcaster_channels"), "channel")} · \${rate.toFixed(1)} publishes/s\`;
  } catch {
    $("stats").textContent = "";
  }
}

/** The occupied channels and their connections, from \`GET /channels\` (it needs the API key). */
async function refreshChannels() {
  const key = $("api-key").value.trim();
  if (!key) { say("channels", "enter the API key (under Publish) to list the channels"); return; }
  try {
    const response = await fetch(\`\${settings.basePath}/channels\`, { headers: { authorization: \`Bearer \${key}\` } });
    const body = await response.json();
    if (!response.ok) { say("channels", \`\${response.status} \${body.error.code}: \${body.error.message}\`, true); return; }
    const box = $("channels");
    box.replaceChildren();
    for (const { channel, connections } of body.channels) {
      const chip = document.createElement("span");
      chip.className = "chip live";
      chip.textContent = \`\${channel} · \${connections}\`;
      box.append(chip);
    }
    say("channels", body.channels.length ? "" : "no channel is occupied");
  } catch {
    say("channels", "");
  }
}

let edited;
$("token").addEventListener("input", () => {
  if (!refused) return;
  // Edited after a refusal: try the new token once typing pauses.
  clearTimeout(edited);
  edited = setTimeout(connect, 600);
});
$("connect").onclick = connect;
$("disconnect").onclick = () => { disconnect(); showState("disconnected"); };
$("subscribe").onclick = () => { const channel = $("channel").value.trim(); if (channel) subscribe(channel); };
$("publish").onclick = publish;
$("pub-via").onchange = showVia;
showVia();
refreshStats();
refreshChannels();
setInterval(() => { refreshStats(); refreshChannels(); }, 2000);
if (settings.token) connect();
`;
