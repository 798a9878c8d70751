/** The message-counted backlog (Nova): sent at once while the socket keeps up, the newest kept when it does not. */

import assert from "node:assert/strict";
import { MessageBacklog } from "../../src/hub/message_backlog.ts";
import { Observed } from "../support/observed.ts";

Deno.test("backlog: sends at once while under the byte limit; behind it, keeps the newest `messages`, telling of the first drop at once", async () => {
  const sent: string[] = [];
  const drops: boolean[] = [];
  const socket = {
    bufferedAmount: 0,
    send: (frame: string) => sent.push(frame),
    dropped: (first: boolean) => drops.push(first),
  };
  const backlog = new MessageBacklog(3, 100, socket);
  backlog.offer("a");
  assert.deepEqual(sent, ["a"]);
  socket.bufferedAmount = 500;
  for (const frame of ["b", "c", "d", "e", "f"]) backlog.offer(frame);
  assert.deepEqual(sent, ["a"], "nothing while the socket is behind");
  assert.equal(backlog.waiting, 3);
  assert.deepEqual(
    drops,
    [true, false],
    "the first drop of the episode is told",
  );
  socket.bufferedAmount = 0;
  const drained = new Observed<number>();
  const check = setInterval(() => drained.push(backlog.waiting), 10);
  await drained.until((values) => values.at(-1) === 0, "the drain");
  clearInterval(check);
  assert.deepEqual(sent, ["a", "d", "e", "f"], "the oldest two dropped");
  socket.bufferedAmount = 500;
  for (const frame of ["g", "h", "i", "j"]) backlog.offer(frame);
  assert.deepEqual(drops, [true, false, true], "a new episode is told again");
  backlog.close();
});

Deno.test("backlog: afterDrain runs at once when nothing waits, else once everything waiting is sent", async () => {
  const sent: string[] = [];
  const socket = {
    bufferedAmount: 0,
    send: (frame: string) => sent.push(frame),
    dropped: () => {},
  };
  const backlog = new MessageBacklog(10, 100, socket);
  const events = new Observed<string>();
  backlog.offer("a");
  backlog.afterDrain(() => events.push("at once"));
  assert.deepEqual(events.values, ["at once"]);
  socket.bufferedAmount = 500;
  backlog.offer("b");
  backlog.offer("last");
  backlog.afterDrain(() => events.push(`after ${sent.at(-1)}`));
  assert.deepEqual(events.values, ["at once"], "not while frames wait");
  socket.bufferedAmount = 0;
  await events.until((values) => values.length === 2, "the drain");
  assert.deepEqual(events.values, ["at once", "after last"]);
  backlog.close();
});
