/**
 * What an engine failure means to a client: one mapping for the WebSocket
 * protocol and REST, so both say the same thing with the same code.
 *
 * The shell classifies what the engine threw (see `failureOf` in
 * `src/engine/engine.ts`); the reducer and the REST routes turn the class into
 * an error here. The cause itself is logged for operators, never sent.
 *
 * @module
 */

import type { ProtocolError } from "./errors.ts";

/**
 * Why the engine failed: `unavailable` (e.g. Redis unreachable; retrying
 * later can succeed) or `failed` (anything else).
 */
export type EngineFailure = "unavailable" | "failed";

/** The engine operations a client can ask for. */
export type EngineOperation =
  | "publish"
  | "history"
  | "subscribe"
  | "presence"
  | "notify"
  | "disconnect"
  | "channels";

/**
 * The error a client gets when the engine failed `operation`.
 *
 * @example
 * ```ts
 * import { engineError } from "./engine_failure.ts";
 *
 * engineError("publish", "unavailable");
 * // { code: "Internal", message: "publish failed: the engine is unavailable, try again" }
 * ```
 */
export function engineError(
  operation: EngineOperation,
  failure: EngineFailure,
): ProtocolError {
  return {
    code: "Internal",
    message: failure === "unavailable"
      ? `${operation} failed: the engine is unavailable, try again`
      : `${operation} failed: internal error`,
  };
}

/** The HTTP status REST answers an engine failure with (SPEC §2: unavailable is 503). */
export function engineFailureStatus(failure: EngineFailure): number {
  return failure === "unavailable" ? 503 : 500;
}
