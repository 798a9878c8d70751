/**
 * Integration, SPEC §7: nothing is lost silently. A consumer that stopped
 * reading for a while is sent what was dropped for it once it reads again,
 * without a reconnect; a position recovers an empty channel; a recovery
 * longer than one batch arrives whole.
 */

import assert from "node:assert/strict";
import { TestClient } from "../support/client.ts";
import { Opcode, RawClient } from "../support/raw_client.ts";
import {
  restPublish,
  seriesValue,
  serve,
  type TestServer,
  token,
} from "../support/server.ts";

const decoder = new TextDecoder();

/** Publishes `count` messages of `size` bytes to room1; returns their ids. */
async function publishMany(
  fixture: TestServer,
  count: number,
  size: number,
): Promise<string[]> {
  const payload = "x".repeat(size);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await restPublish(fixture.base, {
      channel: "room1",
      event: "n",
      payload: `${i}:${payload}`,
    });
    assert.equal(response.status, 200);
    ids.push((await response.json()).id);
  }
  return ids;
}

/** A raw client subscribed to room1 that reads nothing until asked. */
async function pausedReader(fixture: TestServer): Promise<RawClient> {
  const reader = await RawClient.connect(
    `${fixture.websocketUrl}?token=${await token()}`,
  );
  await reader.sendText(
    JSON.stringify({
      id: 1,
      method: "subscribe",
      params: { channel: "room1" },
    }),
  );
  const answer = await reader.readFrame();
  assert.match(decoder.decode(answer?.payload), /"position"/);
  return reader;
}

/**
 * Reads broadcasts until the one with id `last`; fails on a close, or when
 * it has not come within 20 s (the reader is then dropped).
 */
async function readThrough(reader: RawClient, last: string) {
  const received: { id: string; seq: number }[] = [];
  const deadline = setTimeout(() => reader.close(), 20_000);
  try {
    while (received.at(-1)?.id !== last) {
      const frame = await reader.readFrame();
      assert.ok(frame !== null, `${last} within 20 s, on this connection`);
      assert.notEqual(frame.opcode, Opcode.Close, "no close: no reconnect");
      if (frame.opcode !== Opcode.Text) continue;
      const { params } = JSON.parse(decoder.decode(frame.payload));
      received.push({ id: params.id, seq: params.seq });
    }
  } finally {
    clearTimeout(deadline);
  }
  return received;
}

async function droppedSoFar(fixture: TestServer): Promise<number> {
  const metrics = await (await fetch(`${fixture.base}/metrics`)).text();
  return seriesValue(metrics, "broadcaster_deliveries_dropped_total");
}

Deno.test("at the defaults, a consumer that stopped reading gets what was dropped, the last message included, seq continuing, without a reconnect", async () => {
  await using fixture = await serve();
  const reader = await pausedReader(fixture);
  try {
    // 15 MB while it reads nothing: more than the kernel's buffers and the
    // 1 MiB OUTBOUND_BUFFER_BYTES hold, so broadcasts are dropped for it.
    const ids = await publishMany(fixture, 300, 50_000);
    assert.ok(await droppedSoFar(fixture) > 0, "broadcasts were dropped");
    // Nothing is published from here on: the tail comes from history.
    const received = await readThrough(reader, ids.at(-1) ?? "");
    assert.deepEqual(received.map(({ id }) => id), ids);
    assert.deepEqual(
      received.map(({ seq }) => seq),
      ids.map((_, i) => i + 1),
    );
  } finally {
    reader.close();
  }
});

Deno.test("what history no longer holds shows as a seq gap at once: the last message arrives with the seq it counts", async () => {
  await using fixture = await serve({ HISTORY_SIZE: "20" });
  const reader = await pausedReader(fixture);
  try {
    const ids = await publishMany(fixture, 300, 50_000);
    const received = await readThrough(reader, ids.at(-1) ?? "");
    const seqs = received.map(({ seq }) => seq);
    assert.equal(seqs.at(-1), 300);
    assert.ok(seqs.length < 300, "some were lost for good");
    for (let i = 1; i < received.length; i++) {
      const [previous, next] = [received[i - 1], received[i]];
      assert.ok(previous !== undefined && next !== undefined);
      // In order, and each seq is the message's place: a gap is the loss, exactly.
      assert.equal(ids.indexOf(next.id) + 1, next.seq);
      assert.ok(next.seq > previous.seq);
    }
  } finally {
    reader.close();
  }
});

Deno.test("a position recovers an empty channel, and a recovery longer than one batch arrives whole and in order", async () => {
  await using fixture = await serve();
  await using client = await TestClient.authed(fixture.websocketUrl);
  const { position } = await client.ok("subscribe", { channel: "room1" });
  await client.ok("unsubscribe", { channel: "room1" });
  // More than CATCH_UP_BATCH (256): read from history in several batches.
  const ids = await publishMany(fixture, 600, 10);
  const recovered = await client.ok("subscribe", {
    channel: "room1",
    since: position,
  });
  assert.equal(recovered.recovered, true);
  assert.equal(recovered.position, ids.at(-1));
  for (const [index, id] of ids.entries()) {
    const params = await client.broadcast();
    assert.deepEqual([params.id, params.seq], [id, index + 1]);
  }
  // Live again after the recovery.
  const [next] = await publishMany(fixture, 1, 10);
  assert.deepEqual((await client.broadcast()).id, next);
});
