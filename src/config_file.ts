/**
 * `CONFIG_FILE` (SPEC §10): a JSON file of what the environment cannot say,
 * validated with the same library as the environment. Every problem is
 * listed with its JSON path (`namespaces.chat.historySize: …`).
 *
 * @module
 */

import { z } from "zod";
import type { ChannelPolicy } from "./protocol/namespaces.ts";
import { WEBHOOK_EVENTS, type WebhookConfig } from "./webhooks/webhooks.ts";

const count = (max: number) =>
  z.int({ error: "must be a whole number" }).min(0, "must not be negative")
    .max(max, `must be at most ${max}`);

/** An object's message, naming unknown keys (typos) rather than the object. */
function objectError(otherwise: string) {
  return (issue: { code?: string; keys?: readonly string[] }) =>
    issue.code === "unrecognized_keys"
      ? `unknown setting${(issue.keys?.length ?? 0) > 1 ? "s" : ""} ${
        (issue.keys ?? []).map((key) => JSON.stringify(key)).join(", ")
      }`
      : otherwise;
}

const namespace = z.strictObject({
  historySize: count(1_000_000).optional(),
  historyTtlSeconds: count(31_536_000).refine(
    (seconds) => seconds > 0,
    "must be positive",
  ).optional(),
  presence: z.boolean({ error: "must be true or false" }).optional(),
  joinLeave: z.boolean({ error: "must be true or false" }).optional(),
  clientPublish: z.boolean({ error: "must be true or false" }).optional(),
  maxSubscribers: count(100_000_000).optional(),
}, { error: objectError("must be an object of namespace settings") });

const fileSchema = z.strictObject({
  namespaces: z.record(
    z.string().regex(/^[A-Za-z0-9_-]+$/),
    namespace,
    {
      error: (issue) =>
        issue.code === "invalid_key"
          ? "a namespace is a channel's first segment: letters, digits, _ and -"
          : "must be an object of namespaces",
    },
  ).optional(),
  webhooks: z.array(
    z.strictObject({
      url: z.url({
        protocol: /^https?$/,
        error: "must be an http:// or https:// URL",
      }),
      secret: z.string({ error: "must be a string" }).min(
        1,
        "must not be empty",
      ),
      events: z.array(
        z.enum(WEBHOOK_EVENTS, {
          error: `must be one of ${WEBHOOK_EVENTS.join(", ")}`,
        }),
        { error: "must be an array of event names" },
      ).min(1, "must name at least one event"),
    }, { error: objectError("must be an object with url, secret and events") }),
    { error: "must be an array of webhooks" },
  ).optional(),
  triggerUrl: z.url({
    protocol: /^https?$/,
    error: "must be an http:// or https:// URL",
  }).optional(),
  triggerSecret: z.string({ error: "must be a string" }).min(
    1,
    "must not be empty",
  ).optional(),
}, { error: objectError("must be a JSON object") });

/** What a config file holds, validated. */
export interface FileConfig {
  /** Channel settings by namespace (a channel's first segment). */
  readonly namespaces: Readonly<Record<string, Partial<ChannelPolicy>>>;
  /** Where `trigger` requests go (SPEC §10); none without it. */
  readonly trigger?: TriggerConfig;
  /** The back-ends told what happens (SPEC §10). */
  readonly webhooks: readonly WebhookConfig[];
}

/** The back-end `trigger` calls. */
export interface TriggerConfig {
  /** The URL POSTed to. */
  readonly url: string;
  /** The HMAC-SHA256 key of `X-Broadcaster-Signature`; unsigned without it. */
  readonly secret?: string;
}

/** A file's settings, or every problem with its JSON path. */
export type FileConfigResult =
  | { readonly ok: true; readonly file: FileConfig }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Validates the text of a config file.
 *
 * @example
 * ```ts
 * import { parseConfigFile } from "./config_file.ts";
 *
 * parseConfigFile('{"namespaces":{"chat":{"historySize":-1}}}');
 * // { ok: false, problems: ["CONFIG_FILE namespaces.chat.historySize: must not be negative"] }
 * ```
 */
export function parseConfigFile(text: string): FileConfigResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      problems: [
        `CONFIG_FILE is not valid JSON: ${
          error instanceof Error ? error.message : String(error)
        }`,
      ],
    };
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) =>
        `CONFIG_FILE ${
          issue.path.length === 0 ? "(the top)" : issue.path.join(".")
        }: ${issue.message}`
      ),
    };
  }
  const namespaces: Record<string, Partial<ChannelPolicy>> = {};
  for (const [name, settings] of Object.entries(parsed.data.namespaces ?? {})) {
    namespaces[name] = Object.fromEntries(
      Object.entries(settings).filter(([, value]) => value !== undefined),
    ) as Partial<ChannelPolicy>;
  }
  const { triggerUrl, triggerSecret } = parsed.data;
  const webhooks = parsed.data.webhooks ?? [];
  if (triggerUrl === undefined) {
    return { ok: true, file: { namespaces, webhooks } };
  }
  // SPEC §10: signed with triggerSecret, else the first webhook's secret, else not.
  const secret = triggerSecret ?? webhooks[0]?.secret;
  return {
    ok: true,
    file: {
      namespaces,
      webhooks,
      trigger: secret === undefined
        ? { url: triggerUrl }
        : { url: triggerUrl, secret },
    },
  };
}
