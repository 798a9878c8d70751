/**
 * The web console in a real browser (Debian's Chromium, driven by
 * playwright-core): open it, see it connect with the prefilled token,
 * subscribe, publish over REST (from the test and from the page), see the
 * messages and who is in the channel. A screenshot is saved to
 * test-artifacts/console.png.
 */

import assert from "node:assert/strict";
import { launchChromium, RUN_BROWSER_TESTS } from "../support/chromium.ts";
import { TestClient } from "../support/client.ts";
import { restPublish, serve, TEST_API_KEY, token } from "../support/server.ts";

Deno.test({
  name: RUN_BROWSER_TESTS
    ? "the console connects, subscribes and shows published messages"
    : "the console in a browser (skipped: chromium not installed)",
  ignore: !RUN_BROWSER_TESTS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await serve({}, {
      consolePrefill: { token: await token(), apiKey: TEST_API_KEY },
    });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const external: string[] = [];
      page.on("request", (request) => {
        if (!request.url().startsWith(fixture.base)) {
          external.push(request.url());
        }
      });
      await page.goto(`${fixture.base}/`);
      await page.locator("#state", { hasText: "connected" }).waitFor();
      await page.click("#subscribe");
      // Green once the server has confirmed it: from then on every publish arrives.
      await page.locator(".chip.live", { hasText: "room1" }).waitFor();

      await (await restPublish(fixture.base, {
        channel: "room1",
        event: "from-the-test",
        payload: { text: "hello <b>browser</b>" },
      })).body?.cancel();
      const first = page.locator("#messages tr", { hasText: "from-the-test" });
      await first.waitFor();
      assert.match(
        await first.innerText(),
        /hello <b>browser<\/b>/,
        "payload shown as text",
      );

      // Every field has a visible label, also once it is filled.
      // A string: it runs in the page, where the DOM is.
      const unlabelled = await page.evaluate(
        `[...document.querySelectorAll("input, select, textarea")]
          .filter((field) => !document.querySelector(\`label[for="\${field.id}"]\`))
          .map((field) => field.id)`,
      );
      assert.deepEqual(unlabelled, []);
      // The API key only matters for REST: shown only then.
      assert.equal(await page.locator("#api-key").isVisible(), false);
      await page.selectOption("#pub-via", "rest");
      assert.equal(await page.locator("#api-key").isVisible(), true);
      await page.fill("#pub-event", "from-the-page");
      await page.click("#publish");
      await page.locator("#messages tr", { hasText: "from-the-page" })
        .waitFor();
      assert.match(
        await page.locator("#publish-status").innerText(),
        /over REST/,
      );

      // A subscribe error is shown next to Subscribe, not next to Publish.
      await page.fill("#channel", "secret");
      await page.click("#subscribe");
      await page.locator("#subscribe-status", { hasText: "PermissionDenied" })
        .waitFor();
      assert.doesNotMatch(
        await page.locator("#publish-status").innerText(),
        /PermissionDenied/,
      );

      // Live numbers from the server.
      await page.locator("#stats", { hasText: /1 connection · 1 channel · / })
        .waitFor();

      // Usable at 390 px: nothing wider than the screen.
      await page.setViewportSize({ width: 390, height: 844 });
      const overflow = Number(
        await page.evaluate(
          "document.documentElement.scrollWidth - window.innerWidth",
        ),
      );
      assert.ok(overflow <= 0, `the page is ${overflow} px too wide`);

      await Deno.mkdir("test-artifacts", { recursive: true });
      await page.screenshot({
        path: "test-artifacts/console.png",
        fullPage: true,
      });
      assert.deepEqual(external, [], "no request leaves the server");

      // Who is here, live: the chip lists the channel's users, a join is a row.
      await page.locator(".chip.live", { hasText: "1 here: alice" }).waitFor();
      const bob = await TestClient.authed(fixture.websocketUrl, { sub: "bob" });
      await bob.ok("subscribe", { channel: "room1" });
      await page.locator(".chip.live", { hasText: "2 here: alice, bob" })
        .waitFor();
      await page.locator("#messages tr", { hasText: "bob joined" }).waitFor();
      // The occupied channels with their counts (GET /channels, the API key).
      await page.locator("#channels .chip", { hasText: "room1 · 2" }).waitFor();
      await bob[Symbol.asyncDispose]();

      // A back-end's notification is a row.
      await (await fetch(`${fixture.base}/notify`, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_API_KEY}` },
        body: JSON.stringify({ event: "maintenance", payload: "at noon" }),
      })).body?.cancel();
      await page.locator("#messages tr", { hasText: "maintenance" }).waitFor();

      // A refused token: stopped until it is edited, not a reconnect loop.
      await page.fill("#token", "not-a-token");
      await page.click("#connect");
      await page.locator("#connect-status", { hasText: /edit the token/ })
        .waitFor();
      assert.equal(await page.locator("#state").innerText(), "closed");
    } finally {
      await browser.close();
    }
  },
});
