/**
 * `trigger` (SPEC §10): a client's request POSTed, signed, to the app's
 * back-end, whose 2xx JSON answer goes back to the client. A back-end that
 * fails, answers garbage or takes over 5 s fails only that trigger.
 *
 * @module
 */

import type { TriggerConfig } from "../config_file.ts";
import { postSigned, Signer } from "./signature.ts";

/** How long the back-end has to answer. */
export const TRIGGER_TIMEOUT_MS = 5_000;

/** What the back-end made of one trigger. */
export type TriggerOutcome =
  | { readonly ok: true; readonly responseJson: string }
  | { readonly ok: false; readonly reason: string };

/** What a trigger tells the back-end. */
export interface TriggerRequest {
  /** The client's event. */
  readonly event: string;
  /** The client's data, as JSON text. */
  readonly dataJson: string;
  /** The token's `sub`. */
  readonly user: string;
  /** The client's connection. */
  readonly connectionId: string;
}

/**
 * Calls one back-end.
 *
 * @example
 * ```ts
 * import { TriggerClient } from "./trigger.ts";
 *
 * const backEnd = new TriggerClient({ url: "http://127.0.0.1:9/hooks", secret: "s3cret" });
 * // await backEnd.call({ event: "e", dataJson: "null", user: "alice", connectionId: "c1" });
 * ```
 */
export class TriggerClient {
  readonly #url: string;
  readonly #signer: Signer | null;

  /** A client of `config`'s back-end. */
  constructor(config: TriggerConfig) {
    this.#url = config.url;
    this.#signer = config.secret === undefined
      ? null
      : new Signer(config.secret);
  }

  /** POSTs `request`; the back-end's JSON answer, or why there is none. */
  async call(request: TriggerRequest): Promise<TriggerOutcome> {
    const body = `{"event":${
      JSON.stringify(request.event)
    },"data":${request.dataJson},"user":${
      JSON.stringify(request.user)
    },"connectionId":${JSON.stringify(request.connectionId)}}`;
    const signature = this.#signer === null
      ? null
      : await this.#signer.sign(body);
    let response: Response;
    try {
      response = await postSigned(
        this.#url,
        body,
        signature,
        TRIGGER_TIMEOUT_MS,
      );
    } catch (error) {
      return {
        ok: false,
        reason: error instanceof DOMException && error.name === "TimeoutError"
          ? `the back-end did not answer within ${TRIGGER_TIMEOUT_MS / 1000} s`
          : "the back-end cannot be reached",
      };
    }
    const text = await response.text().catch(() => "");
    if (!response.ok) {
      return {
        ok: false,
        reason: `the back-end answered ${response.status}`,
      };
    }
    try {
      // Parsed and written again: only JSON goes back to the client.
      return { ok: true, responseJson: JSON.stringify(JSON.parse(text)) };
    } catch {
      return { ok: false, reason: "the back-end's answer is not JSON" };
    }
  }
}
