/**
 * The SDK's gap recovery, against a scripted peer that speaks the protocol:
 * it skips a `seq`, and the client must resubscribe with `since` and deliver
 * the missed message exactly once, in order.
 */

import assert from "node:assert/strict";
import {
  BroadcasterClient,
  type BroadcastMessage,
} from "../../src/client/mod.ts";
import { Observed } from "../support/observed.ts";

function broadcast(id: string, seq: number, payload: number): string {
  return JSON.stringify({
    method: "broadcast",
    params: {
      id,
      seq,
      createTime: "2026-01-01T00:00:00.000Z",
      channel: "room1",
      event: "e",
      payload,
    },
  });
}

/** A request frame, and how the scripted peer answers or sends. */
interface Exchange {
  readonly frame:
    & { readonly id: number; readonly method: string }
    & Record<
      string,
      unknown
    >;
  reply(result: unknown): void;
  send(text: string): void;
}

/**
 * A peer that speaks the protocol from a script: `auth` and `history` are
 * answered for it, every other request goes to `script`.
 */
function scriptedPeer(
  script: (exchange: Exchange) => void | Promise<void>,
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      socket.onmessage = async (event) => {
        const frame = JSON.parse(event.data);
        const reply = (result: unknown) =>
          socket.send(JSON.stringify({ requestId: frame.id, result }));
        if (frame.method === "auth") return reply({ success: true });
        if (frame.method === "history") return reply({ messages: [] });
        await script({ frame, reply, send: (text) => socket.send(text) });
      };
      return response;
    },
  );
}

Deno.test("a seq gap makes the client resubscribe with since and deliver what it missed", async () => {
  const requests: Record<string, unknown>[] = [];
  let subscribes = 0;
  const peer = scriptedPeer(({ frame, reply, send }) => {
    requests.push(frame);
    switch (frame.method) {
      case "unsubscribe":
        return reply({ success: true });
      case "subscribe":
        subscribes++;
        if (subscribes === 1) {
          reply({ subscriptionId: "s1", timestamp: "t" });
          send(broadcast("1-0", 1, 1));
          send(broadcast("3-0", 3, 3)); // 2-0 was lost
        } else {
          reply({ subscriptionId: "s2", timestamp: "t", recovered: true });
          send(broadcast("2-0", 1, 2));
          send(broadcast("3-0", 2, 3));
        }
    }
  });
  const received: BroadcastMessage[] = [];
  const client = new BroadcasterClient({
    url: `ws://127.0.0.1:${peer.addr.port}/`,
    token: () => "t",
  });
  const done = new Promise<void>((resolve) => {
    client.subscribe("room1", (message) => {
      received.push(message);
      if (received.length === 3) resolve();
    });
  });
  await done;
  assert.deepEqual(received.map((message) => message.payload), [1, 2, 3]);
  const resubscribe =
    requests.filter((frame) => frame.method === "subscribe")[1];
  assert.deepEqual(resubscribe?.params, { channel: "room1", since: "1-0" });
  await client.close();
  await peer.shutdown();
});

Deno.test("a subscription ended while its gap recovery is under way is not subscribed again", async () => {
  const methods = new Observed<string>();
  let answerUnsubscribe: () => void = () => {};
  const unsubscribed = new Promise<void>((resolve) => {
    answerUnsubscribe = resolve;
  });
  const peer = scriptedPeer(async ({ frame, reply, send }) => {
    methods.push(frame.method);
    switch (frame.method) {
      case "subscribe":
        reply({ subscriptionId: "s1", timestamp: "t" });
        send(broadcast("1-0", 1, 1));
        send(broadcast("3-0", 3, 3)); // a gap: recovery starts
        return;
      case "unsubscribe":
        // The recovery's unsubscribe is answered only once the
        // application has ended the subscription meanwhile.
        await unsubscribed;
        return reply({ success: true });
    }
  });
  const client = new BroadcasterClient({
    url: `ws://127.0.0.1:${peer.addr.port}/`,
    token: () => "t",
  });
  let sub: ReturnType<typeof client.subscribe> | undefined;
  await new Promise<void>((resolve) => {
    sub = client.subscribe("room1", () => resolve());
  });
  // The first message arrived; the gap after it starts the recovery.
  await methods.until((v) => v.includes("unsubscribe"), "the recovery");
  sub?.unsubscribe();
  answerUnsubscribe();
  // The application's own unsubscribe is answered too: then the exchange is over.
  await methods.until(
    (v) => v.filter((method) => method === "unsubscribe").length === 2,
    "both unsubscribes",
  );
  await client.close();
  await peer.shutdown();
  assert.deepEqual(methods.values.filter((method) => method === "subscribe"), [
    "subscribe",
  ]);
});
