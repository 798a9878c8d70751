/**
 * The two ways a request is answered, shared by every part of the reducer.
 *
 * @module
 */

import type { Step } from "./effects.ts";
import type { ProtocolError } from "./errors.ts";
import { errorFrame, resultFrame } from "./frames.ts";
import type { ConnectionState } from "./state.ts";

/** One step of a connection. */
export type ConnectionStep = Step<ConnectionState>;

/** Nothing happens. */
export function unchanged<S>(state: S): Step<S> {
  return { state, effects: [] };
}

/** Answers a request with a result; a notification gets no success response. */
export function respond(
  state: ConnectionState,
  requestId: number | undefined,
  result: Readonly<Record<string, unknown>>,
): ConnectionStep {
  return {
    state,
    effects: requestId === undefined
      ? []
      : [{ kind: "reply", frame: resultFrame(requestId, result) }],
  };
}

/** Answers with an error, state unchanged; notifications get errors too. */
export function refuse(
  state: ConnectionState,
  requestId: number | undefined,
  error: ProtocolError,
): ConnectionStep {
  return {
    state,
    effects: [{ kind: "reply", frame: errorFrame(requestId, error) }],
  };
}
