/**
 * Integration, SPEC §10: namespaces from a real `CONFIG_FILE` change what
 * their channels may do (history, presence, join/leave, client publishing,
 * subscribers), and channels outside them keep the defaults.
 */

import assert from "node:assert/strict";
import { TestClient } from "../support/client.ts";
import { apiCall, restPublish, serveWithConfig } from "../support/server.ts";

Deno.test("a namespace's settings hold for its channels only", async () => {
  await using fixture = await serveWithConfig({
    namespaces: {
      chat: {
        historySize: 2,
        clientPublish: false,
        joinLeave: false,
        maxSubscribers: 2,
      },
      quiet: { presence: false },
    },
  });
  const grants = {
    authorizedChannels: ["chat:>", "quiet:>", "room1"],
    scope: ["subscribe", "publish"],
  };
  await using alice = await TestClient.authed(fixture.websocketUrl, {
    sub: "alice",
    ...grants,
  });
  // History: two kept in chat, the default elsewhere.
  for (let i = 0; i < 5; i++) {
    for (const channel of ["chat:room", "room1"]) {
      await (await restPublish(fixture.base, {
        channel,
        event: "n",
        payload: i,
      }))
        .body?.cancel();
    }
  }
  const chat = await alice.ok("history", { channel: "chat:room" });
  assert.deepEqual(
    (chat.messages as { payload: number }[]).map((m) => m.payload),
    [3, 4],
  );
  const room = await alice.ok("history", { channel: "room1" });
  assert.equal((room.messages as unknown[]).length, 5);
  const overRest = await apiCall(fixture, "/history?channel=chat:room");
  assert.equal((overRest.body.messages as unknown[]).length, 2);
  // Client publishing is off in chat (REST still publishes), on elsewhere.
  const refused = await alice.request("publish", {
    channel: "chat:room",
    event: "e",
  });
  assert.equal(refused.error?.code, "PermissionDenied");
  await alice.ok("publish", { channel: "room1", event: "e" });
  // Join and leave are off in chat.
  assert.equal(
    (await alice.request("subscribe", {
      channel: "chat:room",
      joinLeave: true,
    }))
      .error?.code,
    "PermissionDenied",
  );
  // At most two subscribers in a chat channel.
  await alice.ok("subscribe", { channel: "chat:room" });
  await using bob = await TestClient.authed(fixture.websocketUrl, {
    sub: "bob",
    ...grants,
  });
  await bob.ok("subscribe", { channel: "chat:room" });
  await using carol = await TestClient.authed(fixture.websocketUrl, {
    sub: "carol",
    ...grants,
  });
  const full = await carol.request("subscribe", { channel: "chat:room" });
  assert.equal(full.error?.code, "ResourceExhausted");
  // After the refusal the channel can still be subscribed elsewhere, and
  // nobody else is harmed.
  await carol.ok("subscribe", { channel: "room1" });
  // Presence is off in quiet: subscribed, but nobody is a member.
  await alice.ok("subscribe", { channel: "quiet:room" });
  assert.deepEqual(
    await alice.ok("presenceStats", { channel: "quiet:room" }),
    {
      connections: 0,
      users: 0,
    },
  );
  assert.deepEqual(
    await alice.ok("presenceStats", { channel: "chat:room" }),
    {
      connections: 2,
      users: 2,
    },
  );
});
