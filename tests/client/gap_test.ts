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

Deno.test("a seq gap makes the client resubscribe with since and deliver what it missed", async () => {
  const requests: Record<string, unknown>[] = [];
  let subscribes = 0;
  const peer = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      socket.onmessage = (event) => {
        const frame = JSON.parse(event.data);
        requests.push(frame);
        const reply = (result: unknown) =>
          socket.send(JSON.stringify({ requestId: frame.id, result }));
        switch (frame.method) {
          case "auth":
            return reply({ success: true });
          case "history":
            return reply({ messages: [] });
          case "unsubscribe":
            return reply({ success: true });
          case "subscribe":
            subscribes++;
            if (subscribes === 1) {
              reply({ subscriptionId: "s1", timestamp: "t" });
              socket.send(broadcast("1-0", 1, 1));
              socket.send(broadcast("3-0", 3, 3)); // 2-0 was lost
            } else {
              reply({ subscriptionId: "s2", timestamp: "t", recovered: true });
              socket.send(broadcast("2-0", 1, 2));
              socket.send(broadcast("3-0", 2, 3));
            }
        }
      };
      return response;
    },
  );
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
  const peer = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      socket.onmessage = async (event) => {
        const frame = JSON.parse(event.data);
        methods.push(frame.method);
        const reply = (result: unknown) =>
          socket.send(JSON.stringify({ requestId: frame.id, result }));
        switch (frame.method) {
          case "auth":
            return reply({ success: true });
          case "history":
            return reply({ messages: [] });
          case "subscribe":
            reply({ subscriptionId: "s1", timestamp: "t" });
            socket.send(broadcast("1-0", 1, 1));
            socket.send(broadcast("3-0", 3, 3)); // a gap: recovery starts
            return;
          case "unsubscribe":
            // The recovery's unsubscribe is answered only once the
            // application has ended the subscription meanwhile.
            await unsubscribed;
            return reply({ success: true });
        }
      };
      return response;
    },
  );
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
