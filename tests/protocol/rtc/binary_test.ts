/** Binary frames (document `002`): `[type][u32 big-endian length][payload]`, checked against themselves. */

import assert from "node:assert/strict";
import { readBinary } from "../../../src/protocol/rtc/binary.ts";

function binary(type: number, payload: Uint8Array, length = payload.length) {
  const frame = new Uint8Array(5 + payload.length);
  frame[0] = type;
  new DataView(frame.buffer).setUint32(1, length, false);
  frame.set(payload, 5);
  return frame;
}

Deno.test("binary: size, type name and the payload's SHA-256 (a known vector)", () => {
  const abc = new TextEncoder().encode("abc");
  assert.deepEqual(readBinary(binary(0x03, abc)), {
    ok: true,
    receipt: {
      size: 3,
      type: "file_transfer",
      checksum:
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    },
  });
  assert.equal(
    readBinary(binary(0x01, new Uint8Array())).ok,
    true,
    "an empty payload is a payload",
  );
});

Deno.test("binary: too short, a length that disagrees (either way, big-endian read), or an unknown type is refused with why", () => {
  const payload = new Uint8Array(300);
  const littleEndian = binary(0x04, payload);
  new DataView(littleEndian.buffer).setUint32(1, 300, true);
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(), /0 bytes/],
    [new Uint8Array([1, 0, 0, 0]), /at least 5/],
    [binary(0x01, payload, 301), /header says 301 bytes, the payload has 300/],
    [binary(0x01, payload, 299), /length mismatch/],
    [littleEndian, /length mismatch/],
    [binary(0x00, payload), /unknown binary message type 0x00/],
    [binary(0x05, payload), /0x05/],
  ];
  for (const [bytes, why] of cases) {
    const read = readBinary(bytes);
    assert.equal(read.ok, false);
    if (!read.ok) assert.match(read.message, why);
  }
  // A view into a larger buffer reads from its own start.
  const padded = new Uint8Array(10 + 5 + 2);
  padded.set(binary(0x02, new Uint8Array([7, 8])), 10);
  assert.equal(readBinary(padded.subarray(10)).ok, true);
});
