/**
 * The floor: the least work any Deno implementation of the Broadcaster
 * protocol can do, for `deno task bench` to measure the real server against.
 *
 * No validation, no token check, no history, no limits: one `JSON.parse` per
 * frame, one `JSON.stringify` per publish, `seq` spliced per recipient, one
 * `socket.send` per delivery. It speaks just enough of the protocol for the
 * benchmark's load generator (auth, subscribe, publish, REST publish, health).
 *
 * Run: `deno run --allow-net bench/floor_server.ts <port>`
 *
 * @module
 */

interface Subscriber {
  readonly socket: WebSocket;
  seq: number;
}

const channels = new Map<string, Subscriber[]>();
let counter = 0;

/** Fans one message out: serialised once, `seq` spliced per recipient. */
function publish(channel: string, event: string, payload: unknown) {
  const id = `${++counter}`;
  const createTime = new Date().toISOString();
  const head = `{"method":"broadcast","params":{"id":"${id}","seq":`;
  const tail = `,${
    JSON.stringify({ createTime, channel, event, payload }).slice(1)
  }}`;
  for (const subscriber of channels.get(channel) ?? []) {
    subscriber.socket.send(head + ++subscriber.seq + tail);
  }
  return { id, createTime };
}

function onFrame(socket: WebSocket, mine: Set<string>, text: string) {
  const request = JSON.parse(text);
  const params = request.params ?? {};
  let result: unknown;
  switch (request.method) {
    case "subscribe": {
      let list = channels.get(params.channel);
      if (list === undefined) channels.set(params.channel, list = []);
      list.push({ socket, seq: 0 });
      mine.add(params.channel);
      result = {
        subscriptionId: `${counter}`,
        timestamp: new Date().toISOString(),
      };
      break;
    }
    case "publish":
      result = publish(params.channel, params.event, params.payload);
      break;
    default:
      result = { success: true };
  }
  if (request.id) {
    socket.send(JSON.stringify({ requestId: request.id, result }));
  }
}

function serveSocket(request: Request): Response {
  const { socket, response } = Deno.upgradeWebSocket(request);
  const mine = new Set<string>();
  socket.onmessage = (event) => onFrame(socket, mine, event.data);
  socket.onclose = () => {
    for (const channel of mine) {
      const list = channels.get(channel)?.filter((s) => s.socket !== socket) ??
        [];
      if (list.length === 0) channels.delete(channel);
      else channels.set(channel, list);
    }
  };
  return response;
}

const port = Number(Deno.args[0] ?? "8001");
Deno.serve({ port, hostname: "127.0.0.1", onListen() {} }, async (request) => {
  const path = new URL(request.url).pathname;
  if (path === "/broadcaster/websocket") return serveSocket(request);
  if (path === "/broadcaster/publish") {
    const body = await request.json();
    return Response.json(publish(body.channel, body.event, body.payload));
  }
  return new Response("ok");
});
