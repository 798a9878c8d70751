/**
 * The Nova dialect's own effects and inputs, beside the core's: reading a
 * stream's info (its state and counts) and reporting a viewer's issue, and
 * a backlog that overflowed. The shell carries them out with
 * `src/http/nova_effects.ts`.
 *
 * @module
 */

import type { Message } from "../message.ts";

/** An effect only the Nova reducer asks for. */
export type NovaEffect =
  /** Read the stream's latest state and viewers, then feed `streamInfoRead` back. */
  | {
    readonly kind: "streamInfo";
    readonly channel: string;
    /** The viewer's `request_id`, echoed. */
    readonly requestId: unknown;
  }
  /** Log a viewer's `report_issue` and send it to the back-end as a webhook. */
  | {
    readonly kind: "reportIssue";
    readonly channel: string;
    readonly report: Readonly<Record<string, unknown>>;
  };

/** An input only the Nova reducer reads. */
export type NovaInput =
  /** The outcome of a `streamInfo` effect. */
  | {
    readonly kind: "streamInfoRead";
    readonly requestId: unknown;
    /** The stream's latest kept messages (`Engine.latest`). */
    readonly latest: readonly Message[];
    /** Viewers now, cluster-wide. */
    readonly viewers: number;
    /** The highest count this stream has had while live. */
    readonly peak: number;
  }
  /** The stream info could not be read (the engine or presence failed). */
  | { readonly kind: "streamInfoFailed"; readonly requestId: unknown }
  /** The viewer's backlog began dropping its oldest messages. */
  | { readonly kind: "overflowed" };
