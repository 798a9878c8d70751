/** Nova frames: a stream's message as viewers get it. */

import assert from "node:assert/strict";
import { deliveryFrame } from "../../../src/protocol/nova/frames.ts";

const MESSAGE = {
  id: "ep-1",
  createTime: "2026-01-02T03:04:05.678Z",
  channel: "streams:s1",
  event: "bitrate_update",
  epoch: "ep",
  offset: 1,
};

Deno.test("nova frames: stream_id is the stream's, first, whatever the payload says; the payload's timestamp stays, else the message's", () => {
  assert.deepEqual(
    JSON.parse(deliveryFrame({
      ...MESSAGE,
      payloadJson:
        '{"current_bitrate_kbps":1,"stream_id":"spoof","timestamp":"2020-01-01T00:00:00Z"}',
    })),
    {
      event: "bitrate_update",
      data: {
        stream_id: "s1",
        current_bitrate_kbps: 1,
        timestamp: "2020-01-01T00:00:00Z",
      },
    },
  );
  assert.deepEqual(
    Object.keys(
      JSON.parse(deliveryFrame({ ...MESSAGE, payloadJson: '{"a":1}' })).data,
    ),
    ["stream_id", "a", "timestamp"],
  );
  assert.equal(
    deliveryFrame({ ...MESSAGE, payloadJson: "[1,2]" }),
    '{"event":"bitrate_update","data":[1,2]}',
    "a payload that is no object is data as it is",
  );
});
