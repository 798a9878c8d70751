/**
 * The errors the client SDK reports.
 *
 * @module
 */

/**
 * An error the server answered with.
 *
 * @example
 * ```ts
 * import { BroadcasterError } from "./errors.ts";
 *
 * const error = new BroadcasterError("PermissionDenied", "channel not authorized");
 * console.log(error.code); // "PermissionDenied"
 * ```
 */
export class BroadcasterError extends Error {
  /** Always `BroadcasterError`. */
  override readonly name = "BroadcasterError";
  /** The protocol's error code, e.g. `PermissionDenied`. */
  readonly code: string;

  /** An error with the protocol's `code` and the server's `message`. */
  constructor(code: string, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

/** A request got no answer in time. */
export class RequestTimeoutError extends Error {
  /** Always `RequestTimeoutError`. */
  override readonly name = "RequestTimeoutError";
}

/** The client was closed, or the server closed it for good. */
export class ClientClosedError extends Error {
  /** Always `ClientClosedError`. */
  override readonly name = "ClientClosedError";
}
