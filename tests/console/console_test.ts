/**
 * The web console in a real browser (Debian's Chromium, driven by
 * playwright-core): open it, see it connect with the prefilled token,
 * subscribe, publish over REST (from the test and from the page), see the
 * messages. A screenshot is saved to test-artifacts/console.png.
 */

import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { restPublish, serve, TEST_API_KEY, token } from "../support/server.ts";

/** Debian's Chromium, else CHROMIUM_PATH, else a preinstalled Chrome (GitHub's runners). */
async function findChromium(): Promise<string | undefined> {
  const candidates = [
    Deno.env.get("CHROMIUM_PATH"),
    "/usr/bin/chromium",
    "/usr/bin/google-chrome",
  ];
  for (const candidate of candidates) {
    if (candidate && await Deno.stat(candidate).then(() => true, () => false)) {
      return candidate;
    }
  }
  return undefined;
}

const CHROMIUM = await findChromium();
const HAS_CHROMIUM = CHROMIUM !== undefined;
const CI = Deno.env.get("CI") === "true";

Deno.test({
  name: HAS_CHROMIUM || CI
    ? "the console connects, subscribes and shows published messages"
    : "the console in a browser (skipped: chromium not installed)",
  ignore: !HAS_CHROMIUM && !CI,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await serve({}, {
      consolePrefill: { token: await token(), apiKey: TEST_API_KEY },
    });
    const browser = await chromium.launch({
      executablePath: CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
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

      await page.selectOption("#pub-via", "rest");
      await page.fill("#pub-event", "from-the-page");
      await page.click("#publish");
      await page.locator("#messages tr", { hasText: "from-the-page" })
        .waitFor();
      assert.match(await page.locator("#status").innerText(), /over REST/);

      await Deno.mkdir("test-artifacts", { recursive: true });
      await page.screenshot({
        path: "test-artifacts/console.png",
        fullPage: true,
      });
      assert.deepEqual(external, [], "no request leaves the server");
    } finally {
      await browser.close();
    }
  },
});
