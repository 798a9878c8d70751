/**
 * Requests a dialect answers only when their effects come back: numbered
 * (the number their effects carry as `requestId`), kept in its state, and
 * forgotten once answered.
 *
 * @module
 */

import { onClosed } from "./closed.ts";
import type { Effect, Step } from "./effects.ts";
import type { ConnectionState } from "./state.ts";

/** The requests a state of `Tracking` keeps. */
export type PendingOf<S> = S extends Tracking<infer P> ? P : never;

/** A state that keeps requests under way. */
export interface Tracking<P> {
  /** Requests waiting for effects, by the number their effects carry. */
  readonly pending: ReadonlyMap<number, P>;
  /** Requests numbered so far. */
  readonly requestsOpened: number;
}

/**
 * Numbers a request and keeps it until its effects come back.
 *
 * @example
 * ```ts
 * import { track } from "./pending.ts";
 *
 * const { requestId } = track({ pending: new Map(), requestsOpened: 0 }, {
 *   kind: "subscribe",
 * });
 * // requestId: 1
 * ```
 */
export function track<S extends Tracking<object>>(
  state: S,
  pending: PendingOf<S>,
): { readonly state: S; readonly requestId: number } {
  const requestId = state.requestsOpened + 1;
  const tracked = new Map(state.pending);
  tracked.set(requestId, pending);
  return {
    state: { ...state, pending: tracked, requestsOpened: requestId },
    requestId,
  };
}

/** Forgets a request: it is answered. */
export function untrack<S extends Tracking<object>>(
  state: S,
  requestId: number,
): { readonly state: S; readonly pending: PendingOf<S> | undefined } {
  // What `track` put there: the state's own kind of request.
  const pending = state.pending.get(requestId) as PendingOf<S> | undefined;
  if (pending === undefined) return { state, pending };
  const tracked = new Map(state.pending);
  tracked.delete(requestId);
  return { state: { ...state, pending: tracked }, pending };
}

/**
 * Answers request `requestId` with the frame `build` makes of it (nothing
 * for `null`), and forgets it.
 */
export function answer<S extends Tracking<object>, E = never>(
  state: S,
  requestId: number | undefined,
  build: (pending: PendingOf<S>) => string | null,
): Step<S, E> {
  if (requestId === undefined) return { state, effects: [] };
  const { state: done, pending } = untrack(state, requestId);
  if (pending === undefined) return { state: done, effects: [] };
  const text = build(pending);
  const effects: Effect[] = text === null ? [] : [{ kind: "send", text }];
  return { state: done, effects };
}

/** The socket has closed ({@linkcode onClosed}): the requests under way are forgotten with it. */
export function onClosedTracking<
  S extends ConnectionState & Tracking<object>,
>(state: S): Step<S> {
  const closed = onClosed(state);
  return { ...closed, state: { ...closed.state, pending: new Map() } };
}
