/**
 * Protocol error codes and the error value every layer passes around.
 *
 * Errors are values at the protocol level: the reducer returns them, the shell
 * writes them to the socket, REST maps them to HTTP statuses. Exceptions are
 * reserved for bugs.
 *
 * @module
 */

/** Every error code the protocol knows, as the wire spells them. */
export const ERROR_CODES = [
  "InvalidArgument",
  "NotFound",
  "AlreadyExists",
  "FailedPrecondition",
  "PermissionDenied",
  "Unauthenticated",
  "ResourceExhausted",
  "Internal",
] as const;

/** One error code of the protocol. */
export type ErrorCode = typeof ERROR_CODES[number];

/** An error as sent to clients: a code and a human-readable message, never a stack trace. */
export interface ProtocolError {
  /** The error's code, as the wire spells it. */
  readonly code: ErrorCode;
  /** What went wrong, for a human; never a stack trace. */
  readonly message: string;
}

/** The HTTP status REST answers with for each error code (SPEC §2). */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  InvalidArgument: 400,
  Unauthenticated: 401,
  PermissionDenied: 403,
  NotFound: 404,
  AlreadyExists: 409,
  FailedPrecondition: 412,
  ResourceExhausted: 429,
  Internal: 500,
};

/** The outcome of a check that can fail with a protocol error. */
export type Result<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: ProtocolError };

/** A successful {@linkcode Result}. */
export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

/** A failed {@linkcode Result}. */
export function fail<T = never>(code: ErrorCode, message: string): Result<T> {
  return { ok: false, error: { code, message } };
}
