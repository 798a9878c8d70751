/**
 * How the reducers answer: the native protocol's two ways a request is
 * answered, shared by every part of its reducer, and a dialect's frame as
 * text, shared by the dialects.
 *
 * @module
 */

import type { Effect, Step } from "./effects.ts";
import type { ProtocolError } from "./errors.ts";
import { errorFrame, resultFrame } from "./frames.ts";
import type { ConnectionState } from "./state.ts";

/** One step of a connection. */
export type ConnectionStep = Step<ConnectionState>;

/** Sends a dialect's frame, as text (the native protocol's frames are `reply` effects). */
export function send(text: string): Effect {
  return { kind: "send", text };
}

/** Answers with one dialect frame, state unchanged. */
export function reply<S>(state: S, text: string): Step<S> {
  return { state, effects: [send(text)] };
}

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
