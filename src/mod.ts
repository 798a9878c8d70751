/**
 * Broadcaster as a library: run the server inside your own Deno program, or
 * mount its request handler in your own `Deno.serve`. The client SDK is the
 * package's `./client` export.
 *
 * @example Start a server on a free port, mint a token, stop
 * ```ts
 * import { mintToken, parseConfig, startServer } from "./mod.ts";
 *
 * const secret = "0123456789abcdef0123456789abcdef";
 * const parsed = parseConfig({
 *   JWT_SECRET: secret,
 *   API_KEYS: "my-api-key",
 *   PORT: "0",
 *   HOST: "127.0.0.1",
 * });
 * if (!parsed.ok) throw new Error(parsed.problems.join("; "));
 * const server = await startServer(parsed.config);
 * const token = mintToken(secret, {
 *   sub: "alice",
 *   authorizedChannels: ["room1"],
 *   ttlSeconds: 3600,
 * }, Date.now());
 * console.log(`${server.url}/websocket?token=${token}`);
 * await server.shutdown();
 * ```
 *
 * @module
 */

export { mintToken, type TokenClaims, TokenVerifier } from "./auth/jwt.ts";
export {
  type Config,
  type ConfigResult,
  type EngineConfig,
  type LogLevel,
  parseConfig,
} from "./config.ts";
export { createHandler, type Handler } from "./http/handler.ts";
export {
  type BroadcasterServer,
  type StartOptions,
  startServer,
} from "./http/server.ts";
export { buildServices, type Services } from "./services.ts";
