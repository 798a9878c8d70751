/**
 * Requests in flight on one client: numbered, answered by `requestId`, timed
 * out with a typed error, failed together when the connection goes.
 *
 * An answer is handed on synchronously, while its frame is being read: the
 * client's core learns that a subscription is confirmed before the next
 * frame (its first broadcast, perhaps) is read. A promise would hand it on
 * a few microtasks later, after frames that follow it.
 *
 * @module
 */

import { BroadcasterError, RequestTimeoutError } from "./errors.ts";
import type { IncomingFrame } from "./frames.ts";

/** How a request ended: its result, or why not. */
export type Answer =
  | { readonly ok: true; readonly result: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly error: Error };

/** Called once with a request's answer. */
export type Settle = (answer: Answer) => void;

interface Pending {
  readonly settle: Settle;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * The requests a client is waiting on.
 *
 * @example
 * ```ts
 * import { Requests } from "./requests.ts";
 *
 * const requests = new Requests(10_000);
 * requests.send((text) => console.log(text), "heartbeat", {}, (answer) => {
 *   if (answer.ok) console.log(answer.result.timestamp);
 * });
 * requests.answer({ kind: "result", requestId: 1, result: { timestamp: "…" } });
 * ```
 */
export class Requests {
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  /** Requests time out after `timeoutMs`. */
  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** Sends a request through `write`; `settle` gets its answer. */
  send(
    write: (text: string) => void,
    method: string,
    params: unknown,
    settle: Settle,
  ): void {
    const id = this.#nextId++;
    const timer = setTimeout(() => {
      this.#pending.delete(id);
      settle({
        ok: false,
        error: new RequestTimeoutError(`${method} got no answer in time`),
      });
    }, this.#timeoutMs);
    this.#pending.set(id, { settle, timer });
    try {
      write(JSON.stringify({ id, method, params }));
    } catch (error) {
      this.#take(id)?.settle({
        ok: false,
        error: error instanceof Error ? error : new Error(String(error)),
      });
    }
  }

  /** Settles the request a result or error frame answers; other frames are ignored. */
  answer(frame: IncomingFrame): void {
    if (frame.kind !== "result" && frame.kind !== "error") return;
    if (frame.requestId === undefined) return;
    const pending = this.#take(frame.requestId);
    if (pending === undefined) return;
    pending.settle(
      frame.kind === "result"
        ? { ok: true, result: frame.result }
        : { ok: false, error: new BroadcasterError(frame.code, frame.message) },
    );
  }

  /** Fails every request still waiting with `error`. */
  failAll(error: Error): void {
    for (const id of [...this.#pending.keys()]) {
      this.#take(id)?.settle({ ok: false, error });
    }
  }

  #take(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    if (pending === undefined) return undefined;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    return pending;
  }
}
