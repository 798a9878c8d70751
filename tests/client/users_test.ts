/**
 * The SDK with SPEC §9 against the real server: a pattern subscription,
 * a direct message to `#user` (the README's example), `onNotification`, and
 * 4003 from `POST /disconnect`: closed for good, the reason reported.
 */

import assert from "node:assert/strict";
import {
  BroadcasterClient,
  type BroadcastMessage,
  type ConnectionState,
  type Notification,
} from "../../src/client/mod.ts";
import { Observed } from "../support/observed.ts";
import { restPublish, serve, TEST_API_KEY, token } from "../support/server.ts";

Deno.test("a pattern subscription, a direct message, a notification, and 4003", async () => {
  await using fixture = await serve();
  const messages = new Observed<BroadcastMessage>();
  const direct = new Observed<BroadcastMessage>();
  const notifications = new Observed<Notification>();
  const states = new Observed<ConnectionState>();
  const errors = new Observed<Error>();
  const alice = new BroadcasterClient({
    url: fixture.websocketUrl,
    token: () => token({ sub: "alice", authorizedChannels: ["updates:>"] }),
    onNotification: notifications.push,
    onStateChange: states.push,
    onError: errors.push,
  });
  await alice.subscribe("updates:*", messages.push).ready;
  await alice.subscribe("#alice", direct.push).ready;
  for (const channel of ["updates:a", "updates:b"]) {
    await (await restPublish(fixture.base, { channel, event: "e" })).body
      ?.cancel();
  }
  await messages.until((values) => values.length === 2, "two messages");
  assert.deepEqual(
    messages.values.map(({ channel, seq, pattern }) => [channel, seq, pattern]),
    [["updates:a", 1, "updates:*"], ["updates:b", 2, "updates:*"]],
  );

  // Bob sends Alice a direct message: a token with the direct scope.
  const bob = new BroadcasterClient({
    url: fixture.websocketUrl,
    token: () => token({ sub: "bob", scope: ["direct"] }),
  });
  await bob.publish("#alice", "dm", { text: "hi Alice" });
  await direct.until((values) => values.length === 1, "the direct message");
  assert.equal(direct.values[0]?.from, "bob");
  assert.deepEqual(direct.values[0]?.payload, { text: "hi Alice" });
  await bob.close();

  const notify = await fetch(`${fixture.base}/notify`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_API_KEY}` },
    body: JSON.stringify({ event: "maintenance", payload: 5 }),
  });
  await notify.body?.cancel();
  await notifications.until((values) => values.length === 1, "a notification");
  assert.equal(notifications.values[0]?.event, "maintenance");
  assert.equal(notifications.values[0]?.payload, 5);

  const disconnect = await fetch(`${fixture.base}/disconnect`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_API_KEY}` },
    body: JSON.stringify({ user: "alice", reason: "account suspended" }),
  });
  await disconnect.body?.cancel();
  await states.until((values) => values.includes("closed"), "closed");
  assert.equal(alice.state, "closed", "no reconnect after 4003");
  assert.match(
    errors.values.map((error) => error.message).join("\n"),
    /disconnected by the server: account suspended/,
  );
  await alice.close();
});
