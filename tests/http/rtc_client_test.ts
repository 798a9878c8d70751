/**
 * Document `002`'s own example client (`RealtimeProtocolClient`), unchanged
 * but for its URL and token, against the real server: it connects,
 * subscribes, broadcasts and sends a direct message, and every promise it
 * makes resolves with the acknowledgement its code waits for (never its
 * 30 s "Acknowledgment timeout").
 */

import assert from "node:assert/strict";
import { Observed } from "../support/observed.ts";
import {
  main,
  RealtimeProtocolClient,
  target,
} from "../support/realtime_protocol_client.ts";
import { rtcUrl } from "../support/rtc_client.ts";
import { serve, token } from "../support/server.ts";

/** Where the document lives, beside the repository; absent in a bare clone. */
const DOCUMENT = new URL(
  "../../../shared/seeds/002_fc66473316d7775a.txt",
  import.meta.url,
);

/** What the client printed, one entry per console call: its words and values. */
type Printed = { level: string; args: unknown[] };

/** Collects the console while `run` runs: the client reports everything there. */
async function printedBy<T>(
  printed: Observed<Printed>,
  run: () => Promise<T>,
): Promise<T> {
  const { log, warn, error } = console;
  console.log = (...args: unknown[]) => printed.push({ level: "log", args });
  console.warn = (...args: unknown[]) => printed.push({ level: "warn", args });
  console.error = (...args: unknown[]) =>
    printed.push({ level: "error", args });
  try {
    return await run();
  } finally {
    Object.assign(console, { log, warn, error });
  }
}

function said(printed: Observed<Printed>, words: string): unknown[] {
  const entry = printed.values.find((entry) => entry.args[0] === words);
  assert.ok(entry !== undefined, `the client printed ${words}`);
  return entry.args.slice(1);
}

const CLAIMS = {
  authorizedChannels: ["chat:general", "notifications"],
  scope: ["subscribe", "publish", "direct"],
};

// The client leaves each acknowledgement's 30 s timer running after the ack came (it then does nothing).
Deno.test({
  name:
    "the document's client, unchanged: main() subscribes and broadcasts; both promises resolve with their Acks",
  sanitizeOps: false,
  fn: async () => {
    await using fixture = await serve();
    target.url = rtcUrl(fixture.base);
    target.token = token({ ...CLAIMS, sub: "user123" });
    const printed = new Observed<Printed>();
    await printedBy(printed, async () => {
      await main();
      await printed.until(
        (values) =>
          values.some((entry) => entry.args[0] === "Received broadcast:"),
        "its own broadcast",
      );
      await fixture.server.shutdown();
      await printed.until(
        (values) =>
          values.some((entry) => entry.args[0] === "WebSocket disconnected"),
        "the disconnect",
      );
    });
    const [subscribed] = said(printed, "Subscription result:");
    assert.deepEqual(subscribed, {
      message_id: "msg_1",
      status: "subscribed",
      topics: ["chat.general", "notifications"],
      active_subscriptions: 2,
    });
    const [broadcast] = said(printed, "Broadcast result:");
    assert.deepEqual(broadcast, {
      message_id: "msg_2",
      status: "delivered",
      recipients: 1,
    });
    const [received] = said(printed, "Received broadcast:") as [
      Record<string, unknown>,
    ];
    assert.equal(received.topic, "chat.general");
    assert.deepEqual(received.payload, {
      message: "Hello from TypeScript client!",
    });
    const statuses = printed.values.filter((entry) =>
      entry.args[0] === "Status update:"
    ).map((entry) => (entry.args[1] as { status: string }).status);
    assert.deepEqual(statuses, ["connected", "subscribed"]);
    assert.deepEqual(
      printed.values.filter((entry) => entry.level !== "log"),
      [],
      "no error, no unhandled message type",
    );
  },
});

Deno.test({
  name:
    "the document's client, unchanged: sendDirectMessage resolves with delivered_to, and the target's DirectMessage handler runs",
  sanitizeOps: false,
  fn: async () => {
    await using fixture = await serve();
    const url = rtcUrl(fixture.base);
    const printed = new Observed<Printed>();
    await printedBy(printed, async () => {
      const alice = new RealtimeProtocolClient(
        url,
        token({ ...CLAIMS, sub: "alice" }),
      );
      const bob = new RealtimeProtocolClient(
        url,
        token({ ...CLAIMS, sub: "bob" }),
      );
      const welcomes = new Observed<{ details: { connection_id: string } }>();
      bob.on("Status", (data) => welcomes.push(data));
      const messages = new Observed<Record<string, unknown>>();
      bob.on("DirectMessage", (data) => messages.push(data));
      await alice.connect();
      await bob.connect();
      await welcomes.until((values) => values.length > 0, "bob's welcome");
      const result = await alice.sendDirectMessage("bob", {
        message: "Private message",
        attachments: [],
      });
      assert.deepEqual(result, {
        message_id: "msg_1",
        status: "delivered",
        delivered_to: [welcomes.values[0]?.details.connection_id],
      });
      await messages.until((values) => values.length > 0, "the message");
      assert.equal(messages.values[0]?.from_user, "alice");
      assert.deepEqual(messages.values[0]?.payload, {
        message: "Private message",
        attachments: [],
      });
      alice.disconnect();
      bob.disconnect();
      await printed.until(
        (values) =>
          values.filter((entry) => entry.args[0] === "WebSocket disconnected")
            .length === 2,
        "both disconnects",
      );
    });
    assert.deepEqual(
      printed.values.filter((entry) => entry.level !== "log"),
      [],
      "no error, no unhandled message type",
    );
  },
});

Deno.test({
  name: "the client in tests/support is the document's, verbatim",
  ignore: !existsSync(DOCUMENT),
  fn: async () => {
    const document = await Deno.readTextFile(DOCUMENT);
    const start = document.indexOf("### Basic TypeScript Client");
    const open = document.indexOf("```typescript\n", start) + 14;
    const block = document.slice(open, document.indexOf("```\n", open));
    const copy = await Deno.readTextFile(
      new URL("../support/realtime_protocol_client.ts", import.meta.url),
    );
    const changed = block.replace(
      "new RealtimeProtocolClient('ws://localhost:8081/ws', 'your-jwt-token')",
      "new RealtimeProtocolClient(target.url, target.token)",
    );
    assert.notEqual(changed, block, "the URL and token are the one change");
    assert.ok(copy.includes(changed), "the copy differs from the document");
  },
});

function existsSync(url: URL): boolean {
  try {
    Deno.statSync(url);
    return true;
  } catch {
    return false;
  }
}
