/**
 * The static answers: the browser bundle of the client SDK and the web
 * console page.
 *
 * @module
 */

import { CLIENT_JS } from "../client/bundle.generated.ts";
import { consolePage } from "../console/page.ts";

/** `GET {BASE_PATH}/client.js`: the SDK for `<script type="module">`. */
export function clientScript(): Response {
  return new Response(CLIENT_JS, {
    headers: {
      "content-type": "text/javascript; charset=utf-8",
      "access-control-allow-origin": "*",
      "cache-control": "no-cache",
    },
  });
}

/** What the console page is prefilled with (the dev server's token and key). */
export interface ConsolePrefill {
  /** A token to prefill. */
  readonly token?: string;
  /** An API key to prefill. */
  readonly apiKey?: string;
}

/**
 * The console page's answer, built once: `GET {BASE_PATH}/` serves it.
 *
 * @example
 * ```ts
 * import { consoleResponder } from "./assets.ts";
 *
 * const respond = consoleResponder("/broadcaster", {});
 * const response = respond(); // 200 text/html
 * ```
 */
export function consoleResponder(
  basePath: string,
  prefill: ConsolePrefill,
): () => Response {
  const html = consolePage({ basePath, ...prefill });
  return () =>
    new Response(html, {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy":
          "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self' ws: wss:",
        "x-content-type-options": "nosniff",
      },
    });
}
