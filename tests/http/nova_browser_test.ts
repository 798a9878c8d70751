/**
 * Document `003`'s own viewer (`NovaStreamViewer`, JavaScript), unchanged
 * but for its URL, in a real Chromium against the real server: its handlers
 * see `connection_established`, the viewer count and `stream_ended`, and
 * its socket closes after the end.
 */

import assert from "node:assert/strict";
import { launchChromium, RUN_BROWSER_TESTS } from "../support/chromium.ts";
import { NovaClient, novaUrl, viewerClaims } from "../support/nova_client.ts";
import { Observed } from "../support/observed.ts";
import { restPublish, serve, token } from "../support/server.ts";

const VIEWER = new URL("../support/nova_stream_viewer.js", import.meta.url);

/** Where the document lives, beside the repository; absent in a bare clone. */
const DOCUMENT = new URL(
  "../../../shared/seeds/003_fef9a961d8c8c7e7.txt",
  import.meta.url,
);

Deno.test({
  name: RUN_BROWSER_TESTS
    ? "the document's NovaStreamViewer, unchanged in Chromium: connection_established, viewer counts, stream_ended"
    : "the document's NovaStreamViewer in a browser (skipped: chromium not installed)",
  ignore: !RUN_BROWSER_TESTS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await serve();
    await (await restPublish(fixture.base, {
      channel: "streams:live-1",
      event: "stream_started",
      payload: { broadcaster_id: "user-123", title: "Live", quality: "1080p" },
    })).body?.cancel();
    const code = await Deno.readTextFile(VIEWER);
    const origin = new URL(novaUrl(fixture.base, "x")).origin;
    const page = `<!doctype html><script>
const NOVA_ORIGIN = ${JSON.stringify(origin)};
const streamId = "live-1";
const token = ${JSON.stringify(token(viewerClaims("live-1", "viewer-42")))};
${code}
</script>`;
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      const logged = new Observed<string>();
      tab.on("console", (message) => logged.push(message.text()));
      await tab.setContent(page);
      await logged.until(
        (lines) => lines.includes("Connected as viewer: viewer-42"),
        "connection_established",
      );
      await logged.until((lines) => lines.includes("Viewers: 1"), "1 viewer");
      await using second = await NovaClient.connect(
        novaUrl(fixture.base, "live-1"),
        viewerClaims("live-1", "viewer-43"),
      );
      await logged.until((lines) => lines.includes("Viewers: 2"), "2 viewers");
      await (await restPublish(fixture.base, {
        channel: "streams:live-1",
        event: "stream_ended",
        payload: { duration_seconds: 42, reason: "broadcaster_ended" },
      })).body?.cancel();
      await logged.until(
        (lines) => lines.includes("Stream ended after 42 seconds"),
        "stream_ended",
      );
      await logged.until(
        (lines) => lines.includes("Disconnected from stream"),
        "the close after the end",
      );
      assert.equal((await second.closed).code, 1000);
      assert.ok(logged.values.includes("Connected to stream"));
      assert.ok(
        !logged.values.some((line) => line.startsWith("WebSocket error")),
        logged.values.join("\n"),
      );
    } finally {
      await browser.close();
    }
  },
});

Deno.test({
  name:
    "the viewer in tests/support is the document's, verbatim but for its URL",
  ignore: !(await Deno.stat(DOCUMENT).then(() => true, () => false)),
  fn: async () => {
    const document = await Deno.readTextFile(DOCUMENT);
    const start = document.indexOf("### JavaScript (Vanilla)");
    const open = document.indexOf("```javascript\n", start) + 14;
    const block = document.slice(open, document.indexOf("```\n", open));
    const changed = block.replace(
      "const url = `wss://api.nova-social.io/api/v1/streams/${this.streamId}/ws`;",
      "const url = `${NOVA_ORIGIN}/api/v1/streams/${this.streamId}/ws`;",
    );
    assert.notEqual(changed, block, "the URL is the one change");
    assert.ok((await Deno.readTextFile(VIEWER)).endsWith(changed));
  },
});
