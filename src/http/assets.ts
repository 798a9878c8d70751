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

/** The console's icon: a broadcast mark, as SVG (no binary to ship). */
const FAVICON =
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2f6fed"/><circle cx="16" cy="16" r="3.5" fill="#fff"/><path d="M9.5 22.5a9 9 0 0 1 0-13M22.5 9.5a9 9 0 0 1 0 13" stroke="#fff" stroke-width="2.5" fill="none" stroke-linecap="round"/></svg>`;

/** `GET {BASE_PATH}/favicon.svg`: the console's icon. */
export function favicon(): Response {
  return new Response(FAVICON, {
    headers: {
      "content-type": "image/svg+xml",
      "cache-control": "max-age=86400",
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
