/**
 * Test fixture: a headless Chromium (Debian's, driven by playwright-core)
 * for the tests that run code in a real browser.
 *
 * @module
 */

import { type Browser, chromium } from "playwright-core";

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

/** Where Chromium is, when it is here. */
export const CHROMIUM = await findChromium();

/** Whether browser tests run: Chromium is here, or CI (where its absence must fail). */
export const RUN_BROWSER_TESTS = CHROMIUM !== undefined ||
  Deno.env.get("CI") === "true";

/** A headless Chromium; close it when done. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
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
}
