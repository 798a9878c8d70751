/**
 * Decoding of client frames: the request envelope, then each method's params.
 *
 * The envelope is checked by hand because its `id` must be recovered even when
 * everything else is wrong, so the error can still answer the request. Params
 * are checked with zod; the first problem becomes an `InvalidArgument` message
 * that names the field.
 *
 * @module
 */

import { z } from "zod";
import { fail, ok, type Result } from "./errors.ts";

/** A frame that parsed as a request envelope. */
export interface RequestEnvelope {
  /** The client's id, or `undefined` for a notification (no id, `0` or `null`). */
  readonly requestId: number | undefined;
  /** The method asked for. */
  readonly method: string;
  /** Its params, not yet validated. */
  readonly params: unknown;
}

/** The outcome of decoding a text frame; on failure, the id to answer if one was readable. */
export type DecodedFrame =
  | { readonly ok: true; readonly request: RequestEnvelope }
  | {
    readonly ok: false;
    readonly requestId: number | undefined;
    readonly message: string;
  };

/** Whether `value` is a JSON object: not null, not an array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Parses one text frame into a request envelope.
 *
 * @example
 * ```ts
 * const decoded = decodeFrame('{"id":1,"method":"heartbeat"}');
 * if (decoded.ok) console.log(decoded.request.method); // "heartbeat"
 * ```
 */
export function decodeFrame(text: string): DecodedFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, requestId: undefined, message: "malformed JSON" };
  }
  if (!isRecord(value)) {
    return {
      ok: false,
      requestId: undefined,
      message: "a request must be a JSON object",
    };
  }
  const id = value.id;
  let requestId: number | undefined;
  if (id === undefined || id === null || id === 0) {
    requestId = undefined;
  } else if (typeof id === "number" && Number.isSafeInteger(id) && id > 0) {
    requestId = id;
  } else {
    return {
      ok: false,
      requestId: undefined,
      message: "id must be a positive integer",
    };
  }
  const method = value.method;
  if (typeof method !== "string" || method === "") {
    return {
      ok: false,
      requestId,
      message: "method must be a non-empty string",
    };
  }
  return { ok: true, request: { requestId, method, params: value.params } };
}

const channelField = z.string({ error: "must be a string" });

/** One problem a schema found: where, and what. */
export interface ParamsIssue {
  /** The path of the field within params, e.g. `["channel"]`. */
  readonly path: readonly PropertyKey[];
  /** What is wrong with it. */
  readonly message: string;
}

/** A schema of one method's params, validating into `T` (the zod schemas below). */
export interface ParamsSchema<T> {
  /** Validates `value`: its data, or every problem found. */
  safeParse(
    value: unknown,
  ):
    | { readonly success: true; readonly data: T }
    | {
      readonly success: false;
      readonly error: { readonly issues: readonly ParamsIssue[] };
    };
}

/** Params of `auth`. */
export const AuthParams: ParamsSchema<{ token: string }> = z.object({
  token: z.string({ error: "must be a string" }).min(1, "must not be empty"),
});

/** Params of `subscribe`. */
export const SubscribeParams: ParamsSchema<
  {
    channel: string;
    since?: string | undefined;
    joinLeave?: boolean | undefined;
    occupancy?: boolean | undefined;
  }
> = z.object({
  channel: channelField,
  since: z.string({ error: "must be a string" }).min(1, "must not be empty")
    .optional(),
  joinLeave: z.boolean({ error: "must be a boolean" }).optional(),
  occupancy: z.boolean({ error: "must be a boolean" }).optional(),
});

/** Params of `trigger` (SPEC §10). */
export const TriggerParams: ParamsSchema<{ event: string; data: unknown }> = z
  .object({
    event: z.string({ error: "must be a string" }).min(1, "must not be empty"),
    data: z.unknown().optional().transform((data) => data ?? null),
  });

/** Params of `presence` and `presenceStats`. */
export const PresenceParams: ParamsSchema<{ channel: string }> = z.object({
  channel: channelField,
});

/** Params of `unsubscribe`. */
export const UnsubscribeParams: ParamsSchema<{ channel: string }> = z.object(
  { channel: channelField },
);

/**
 * Params of `publish` (and the body of REST `/publish`). A missing `payload`
 * is `null`, as the original's decoder left it.
 */
export const PublishParams: ParamsSchema<
  { channel: string; event: string; payload: unknown }
> = z.object({
  channel: channelField,
  event: z.string({ error: "must be a string" }).min(1, "must not be empty"),
  payload: z.unknown().optional().transform((payload) => payload ?? null),
});

/** The body of REST `/notify` (SPEC §9): to everyone, or to the listed users. */
export const NotifyBody: ParamsSchema<
  { event: string; payload: unknown; users?: string[] | undefined }
> = z.object({
  event: z.string({ error: "must be a string" }).min(1, "must not be empty"),
  payload: z.unknown().optional().transform((payload) => payload ?? null),
  users: z.array(
    z.string({ error: "must be a string" }).min(1, "must not be empty"),
    { error: "must be an array of strings" },
  ).optional(),
});

/** The most a close frame's reason may take, in UTF-8 bytes (RFC 6455). */
export const MAX_CLOSE_REASON_BYTES = 123;

/** The body of REST `/disconnect` (SPEC §9). */
export const DisconnectBody: ParamsSchema<
  { user: string; reason?: string | undefined }
> = z.object({
  user: z.string({ error: "must be a string" }).min(1, "must not be empty"),
  reason: z.string({ error: "must be a string" }).refine(
    (reason) =>
      new TextEncoder().encode(reason).length <= MAX_CLOSE_REASON_BYTES,
    `must be at most ${MAX_CLOSE_REASON_BYTES} bytes`,
  ).optional(),
});

/** Params of `history`. */
export const HistoryParams: ParamsSchema<
  { channel: string; limit?: number | undefined }
> = z.object({
  channel: channelField,
  limit: z.int({ error: "must be an integer" }).positive("must be positive")
    .optional(),
});

/**
 * Where params came from, for error messages: a WebSocket request's
 * `params` (`params.channel: must be a string`), a REST body
 * (`channel: must be a string`), or a dialect's `data` (`data.topics: …`).
 */
export type ParamsSource = "params" | "body" | "data";

/**
 * Validates `params` against a schema; the first problem becomes an
 * `InvalidArgument` naming the field, e.g. `params.channel: must be a string`.
 */
export function decodeParams<T>(
  schema: ParamsSchema<T>,
  params: unknown,
  source: ParamsSource = "params",
): Result<T> {
  if (!isRecord(params)) {
    return fail(
      "InvalidArgument",
      source === "body"
        ? "body must be a JSON object"
        : `${source} must be an object`,
    );
  }
  const parsed = schema.safeParse(params);
  if (parsed.success) return ok(parsed.data);
  const issue = parsed.error.issues[0];
  const fields = (issue?.path ?? []).map(String);
  const path = (source === "body" ? fields : [source, ...fields]).join(".");
  return fail(
    "InvalidArgument",
    `${path === "" ? source : path}: ${issue?.message ?? "invalid"}`,
  );
}
