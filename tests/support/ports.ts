/**
 * Test and bench fixture: a free loopback port.
 *
 * @module
 */

/**
 * A port nobody listens on right now, for a child process to take.
 *
 * @example
 * ```ts
 * import { freePort } from "./ports.ts";
 *
 * const port = freePort();
 * ```
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
