/**
 * The client's requests that take more than one frame: authenticating with a
 * fresh token, (re)subscribing. Each ends by
 * handing the event that reports its outcome to `done`, synchronously with
 * the answer that decided it (see `requests.ts`).
 *
 * @module
 */

import { BroadcasterError } from "./errors.ts";
import type { ClientCommand, ClientEvent } from "./events.ts";
import type { Settle } from "./requests.ts";

/** Sends one request on the current connection. */
export type RequestFn = (
  method: string,
  params: unknown,
  settle: Settle,
) => void;

/** What an operation came to: the event for the core, and a failure to report. */
export interface Outcome {
  /** The event for the core, or `null` when there is nothing to tell it. */
  readonly event: ClientEvent | null;
  /** A failure the application should hear of (`onError`). */
  readonly error?: Error;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * `auth` with a token from `token()`.
 *
 * @example
 * ```ts
 * import { authenticate } from "./operations.ts";
 *
 * authenticate(
 *   (_method, _params, settle) => settle({ ok: true, result: { success: true } }),
 *   () => "token",
 *   (outcome) => console.log(outcome.event), // { kind: "authenticated" }
 * );
 * ```
 */
export function authenticate(
  request: RequestFn,
  token: () => string | Promise<string>,
  done: (outcome: Outcome) => void,
): void {
  const failed = (error: unknown) =>
    done({ event: { kind: "authFailed" }, error: asError(error) });
  Promise.resolve().then(token).then(
    (value) =>
      request("auth", { token: value }, (answer) => {
        if (answer.ok) done({ event: { kind: "authenticated" } });
        else failed(answer.error);
      }),
    failed,
  );
}

/**
 * `subscribe`, with `since` when recovering; first `unsubscribe` when
 * recovering from a gap on a live subscription, and then only if the
 * application still wants it (`wanted`): else the server would keep a
 * subscription nobody tracks.
 */
export function subscribe(
  request: RequestFn,
  command: Extract<ClientCommand, { kind: "subscribe" }>,
  done: (outcome: Outcome) => void,
  wanted: () => boolean,
): void {
  const { channel, generation, since, wishes } = command;
  const params = {
    channel,
    ...(since === undefined ? {} : { since }),
    ...(wishes.joinLeave ? { joinLeave: true } : {}),
    ...(wishes.occupancy ? { occupancy: true } : {}),
  };
  const send = () =>
    request("subscribe", params, (answer) => {
      if (answer.ok) {
        const { recovered, position } = answer.result;
        done({
          event: {
            kind: "subscribed",
            channel,
            generation,
            recovered: typeof recovered === "boolean" ? recovered : undefined,
            position: typeof position === "string" ? position : undefined,
          },
        });
      } else if (answer.error instanceof BroadcasterError) {
        const { code, message } = answer.error;
        done({
          event: {
            kind: "subscribeRefused",
            channel,
            generation,
            code,
            message: message.slice(code.length + 2),
            jitter: Math.random(),
          },
        });
      }
      // Timed out or disconnected: the next connection subscribes again.
    });
  if (!command.unsubscribeFirst) return send();
  // Already gone server-side, perhaps: subscribe again all the same.
  request("unsubscribe", { channel }, () => {
    if (wanted()) send();
  });
}
