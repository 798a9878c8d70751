/** `CONFIG_FILE`: every problem with its JSON path; what is valid, resolved. */

import assert from "node:assert/strict";
import { parseConfigFile } from "../src/config_file.ts";

Deno.test("every problem is listed with its JSON path", () => {
  const parsed = parseConfigFile(JSON.stringify({
    namespaces: {
      chat: { historySize: -1, maxSubscribers: 1.5, clientPublish: "no" },
      "not a segment": {},
    },
    webhooks: [
      { url: "ftp://x", secret: "", events: ["channel_occupied", "typo"] },
      { url: "https://ok.example", secret: "s" },
    ],
    triggerUrl: "not a url",
    typo: [],
  }));
  assert.ok(!parsed.ok);
  assert.deepEqual(parsed.problems, [
    "CONFIG_FILE namespaces.chat.historySize: must not be negative",
    "CONFIG_FILE namespaces.chat.clientPublish: must be true or false",
    "CONFIG_FILE namespaces.chat.maxSubscribers: must be a whole number",
    "CONFIG_FILE namespaces.not a segment: a namespace is a channel's first segment: letters, digits, _ and -",
    "CONFIG_FILE webhooks.0.url: must be an http:// or https:// URL",
    "CONFIG_FILE webhooks.0.secret: must not be empty",
    "CONFIG_FILE webhooks.0.events.1: must be one of channel_occupied, channel_vacated, member_added, member_removed, client_event, report_issue",
    "CONFIG_FILE webhooks.1.events: must be an array of event names",
    "CONFIG_FILE triggerUrl: must be an http:// or https:// URL",
    'CONFIG_FILE (the top): unknown setting "typo"',
  ]);
});

Deno.test("not JSON, or not an object, is said so", () => {
  const garbled = parseConfigFile("{nope");
  assert.ok(!garbled.ok);
  assert.match(garbled.problems[0] ?? "", /not valid JSON/);
  const list = parseConfigFile("[]");
  assert.ok(!list.ok);
  assert.deepEqual(list.problems, [
    "CONFIG_FILE (the top): must be a JSON object",
  ]);
});

Deno.test("the trigger is signed with triggerSecret, else the first webhook's secret", () => {
  const withWebhook = parseConfigFile(JSON.stringify({
    webhooks: [{
      url: "https://a.example",
      secret: "hook",
      events: ["client_event"],
    }],
    triggerUrl: "https://a.example/trigger",
  }));
  assert.ok(withWebhook.ok);
  assert.deepEqual(withWebhook.file.trigger, {
    url: "https://a.example/trigger",
    secret: "hook",
  });
  const unsigned = parseConfigFile(
    JSON.stringify({ triggerUrl: "https://a.example/trigger" }),
  );
  assert.ok(unsigned.ok);
  assert.deepEqual(unsigned.file.trigger, { url: "https://a.example/trigger" });
  const empty = parseConfigFile("{}");
  assert.ok(empty.ok);
  assert.deepEqual(empty.file, { namespaces: {}, webhooks: [], apps: [] });
});
