/**
 * The outbound meter: drops broadcasts while the socket's backlog is over the
 * limit, reports each crossing once, and reads `bufferedAmount` only when its
 * upper bound says the limit could have been crossed.
 */

import assert from "node:assert/strict";
import { OutboundMeter } from "../../src/hub/outbound_meter.ts";

const LIMIT = 1000;

function meter() {
  const socket = { buffered: 0, reads: 0 };
  const crossings: number[] = [];
  const outbound = new OutboundMeter(LIMIT, {
    get bufferedAmount() {
      socket.reads++;
      return socket.buffered;
    },
    onBacklog: (bytes) => crossings.push(bytes),
  });
  return { outbound, socket, crossings };
}

Deno.test("within the bound the socket is never asked", () => {
  const { outbound, socket } = meter();
  // 3 bytes per UTF-16 unit: 333 units stay within 1000 bytes.
  assert.ok(outbound.admits(333));
  assert.ok(outbound.admits(1));
  assert.equal(socket.reads, 0);
});

Deno.test("over the limit: dropped and reported once; back under: sent and reported", () => {
  const { outbound, socket, crossings } = meter();
  assert.ok(outbound.admits(400)); // the bound is now 1200
  socket.buffered = LIMIT + 1;
  assert.equal(outbound.admits(10), false);
  assert.equal(outbound.admits(10), false);
  assert.equal(outbound.dropped, 2);
  assert.deepEqual(crossings, [LIMIT + 1]);
  socket.buffered = 10;
  assert.ok(outbound.admits(10));
  assert.deepEqual(crossings, [LIMIT + 1, 10]);
});

Deno.test("over four times the limit is reported once, however many broadcasts are dropped", () => {
  const { outbound, socket, crossings } = meter();
  assert.ok(outbound.admits(400));
  socket.buffered = LIMIT + 1;
  assert.equal(outbound.admits(10), false);
  socket.buffered = LIMIT * 4 + 1;
  for (let i = 0; i < 5; i++) assert.equal(outbound.admits(10), false);
  assert.deepEqual(crossings, [LIMIT + 1, LIMIT * 4 + 1]);
});

Deno.test("replies are never dropped, but a client that reads none is reported", () => {
  const { outbound, socket, crossings } = meter();
  socket.buffered = LIMIT * 4 + 1;
  outbound.afterReply(1400); // 4200 bytes at most: past four times the limit, so read
  assert.deepEqual(crossings, [LIMIT * 4 + 1]);
});

Deno.test("a large reply read back as drained reports nothing", () => {
  const { outbound, socket, crossings } = meter();
  outbound.afterReply(1400); // past four times the limit at most: read
  assert.equal(socket.reads, 1);
  assert.deepEqual(crossings, []); // the socket had sent it all
});

Deno.test("measure() reads without reporting, and keeps the meter in step", () => {
  const { outbound, socket, crossings } = meter();
  socket.buffered = LIMIT + 1;
  assert.equal(outbound.measure(), LIMIT + 1);
  assert.deepEqual(crossings, []);
  // Already known to be over: a drop is not reported again.
  assert.equal(outbound.admits(10), false);
  assert.deepEqual(crossings, []);
});
