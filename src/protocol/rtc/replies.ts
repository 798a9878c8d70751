/**
 * How the Real-time Communication Service reducer answers: frames as text
 * (`send` effects), and the requests it numbers and keeps while their
 * effects are under way, answered when their outcomes come back.
 *
 * @module
 */

import type { Authentication, Scope } from "../authentication.ts";
import type { Step } from "../effects.ts";
import type { ProtocolError } from "../errors.ts";
import { reply, send } from "../replies.ts";
import { ERROR_STATUS, errorFrame, type MessageId } from "./frames.ts";
import type { PendingRequest, RtcState } from "./state.ts";

/** One step of a connection of this protocol. */
export type RtcStep = Step<RtcState>;

/** Frames as text, as every dialect sends them (`src/protocol/replies.ts`). */
export { reply, send };

/** A protocol error (a `data` field the schema refused): its numeric code. */
export function refuse(
  state: RtcState,
  error: ProtocolError,
  id: MessageId | undefined,
): RtcStep {
  return reply(state, protocolErrorFrame(error, id));
}

/** The `Error` frame of a protocol error, with its numeric code. */
export function protocolErrorFrame(
  error: ProtocolError,
  id: MessageId | undefined,
): string {
  return errorFrame(ERROR_STATUS[error.code], error.message, id);
}

/** Requests under way: numbered, kept, answered (`src/protocol/pending.ts`). */
export { answer, track, untrack } from "../pending.ts";

/**
 * The connection's credentials when they carry `scope`; else the `Error`
 * to answer with (401 without credentials, 403 without the scope).
 */
export function withScope(
  state: RtcState,
  scope: Scope,
  id: MessageId | undefined,
):
  | { readonly ok: true; readonly auth: Authentication }
  | { readonly ok: false; readonly error: string } {
  const { auth } = state;
  if (auth === null) {
    return { ok: false, error: errorFrame(401, "not authenticated", id) };
  }
  if (!auth.scopes.has(scope)) {
    return {
      ok: false,
      error: errorFrame(403, `the token lacks the ${scope} scope`, id),
    };
  }
  return { ok: true, auth };
}

/** The client's id of a request, when it had one. */
export function idOf(pending: PendingRequest): MessageId | undefined {
  return pending.kind === "welcome" ? undefined : pending.id;
}
