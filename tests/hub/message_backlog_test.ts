/** The message-counted backlog (Nova): sent at once while the socket keeps up, the newest kept when it does not. */

import assert from "node:assert/strict";
import { MessageBacklog } from "../../src/hub/message_backlog.ts";
import { Observed } from "../support/observed.ts";

Deno.test("backlog: sends at once while under the byte limit; behind it, keeps the newest `messages`, then tells how many were dropped", async () => {
  const sent: string[] = [];
  const dropped = new Observed<number>();
  const socket = {
    bufferedAmount: 0,
    send: (frame: string) => sent.push(frame),
    overflowed: (count: number) => dropped.push(count),
  };
  const backlog = new MessageBacklog(3, 100, socket);
  backlog.offer("a");
  assert.deepEqual(sent, ["a"]);
  socket.bufferedAmount = 500;
  for (const frame of ["b", "c", "d", "e", "f"]) backlog.offer(frame);
  assert.deepEqual(sent, ["a"], "nothing while the socket is behind");
  assert.equal(backlog.waiting, 3);
  socket.bufferedAmount = 0;
  await dropped.until((values) => values.length === 1, "the overflow");
  assert.deepEqual(sent, ["a", "d", "e", "f"], "the oldest two dropped");
  assert.deepEqual(dropped.values, [2]);
  backlog.offer("g");
  assert.deepEqual(sent.at(-1), "g");
  backlog.close();
});
