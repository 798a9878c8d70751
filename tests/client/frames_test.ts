/** Server frames are validated before the client acts on them: nothing can throw. */

import assert from "node:assert/strict";
import { parseServerFrame } from "../../src/client/frames.ts";

Deno.test("frames that are not JSON objects, or of unknown shape, are ignored", () => {
  for (
    const text of [
      "null",
      "[]",
      "42",
      '"x"',
      "{",
      "{}",
      '{"method":"broadcast"}',
      '{"method":"broadcast","params":{"id":"1","seq":"1","createTime":"t","channel":"c","event":"e"}}',
      '{"method":"broadcast","params":{"id":"1","seq":0,"createTime":"t","channel":"c","event":"e"}}',
      '{"method":"unsubscribed","params":{}}',
      '{"method":"whatever","params":{}}',
      '{"result":{}}',
    ]
  ) {
    assert.equal(parseServerFrame(text), null, text);
  }
});

Deno.test("broadcasts, results, errors and notifications are read", () => {
  assert.deepEqual(
    parseServerFrame(
      '{"method":"broadcast","params":{"id":"1-0","seq":3,"createTime":"t","channel":"c","event":"e","payload":[1]}}',
    ),
    {
      kind: "broadcast",
      message: {
        id: "1-0",
        seq: 3,
        createTime: "t",
        channel: "c",
        event: "e",
        payload: [1],
      },
    },
  );
  assert.deepEqual(parseServerFrame('{"requestId":2,"result":null}'), {
    kind: "result",
    requestId: 2,
    result: {},
  });
  assert.deepEqual(
    parseServerFrame('{"error":{"code":"InvalidArgument","message":"m"}}'),
    {
      kind: "error",
      requestId: undefined,
      code: "InvalidArgument",
      message: "m",
    },
  );
  assert.deepEqual(
    parseServerFrame('{"method":"tokenExpiring","params":{"expiresAt":"t"}}'),
    { kind: "tokenExpiring" },
  );
  assert.deepEqual(
    parseServerFrame('{"method":"unsubscribed","params":{"channel":"c"}}'),
    { kind: "unsubscribed", channel: "c" },
  );
});
