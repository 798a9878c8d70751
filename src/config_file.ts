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

const namespaces = z.record(
  z.string().regex(/^[A-Za-z0-9_-]+$/),
  namespace,
  {
    error: (issue) =>
      issue.code === "invalid_key"
        ? "a namespace is a channel's first segment: letters, digits, _ and -"
        : "must be an object of namespaces",
  },
);

const webhooks = z.array(
  z.strictObject({
    url: z.url({
      protocol: /^https?$/,
      error: "must be an http:// or https:// URL",
    }),
    secret: z.string({ error: "must be a string" }).min(1, "must not be empty"),
    events: z.array(
      z.enum(WEBHOOK_EVENTS, {
        error: `must be one of ${WEBHOOK_EVENTS.join(", ")}`,
      }),
      { error: "must be an array of event names" },
    ).min(1, "must name at least one event"),
  }, { error: objectError("must be an object with url, secret and events") }),
  { error: "must be an array of webhooks" },
);

const triggerUrl = z.url({
  protocol: /^https?$/,
  error: "must be an http:// or https:// URL",
});

const secretString = z.string({ error: "must be a string" }).min(
  1,
  "must not be empty",
);

/** What an app and the default app have alike. */
const appSettings = {
  namespaces: namespaces.optional(),
  webhooks: webhooks.optional(),
  triggerUrl: triggerUrl.optional(),
  triggerSecret: secretString.optional(),
};

const app = z.strictObject({
  id: z.string({ error: "must be a string" }).regex(
    /^[a-z0-9_-]{1,64}$/,
    "must be 1 to 64 of a-z, 0-9, _ and -",
  ),
  path: z.string({ error: "must be a string" }).regex(
    /^(\/[A-Za-z0-9_-]+)+$/,
    "must be like /world: segments of letters, digits, _ and -",
  ),
  jwtSecret: z.string({ error: "must be a string" }).refine(
    (secret) => new TextEncoder().encode(secret).length >= 32,
    "must be at least 32 bytes (openssl rand -base64 32)",
  ),
  apiKeys: z.array(secretString, { error: "must be an array of keys" }).min(
    1,
    "must hold at least one key",
  ),
  users: z.array(
    z.strictObject({
      // As the WebRocket protocol takes them: a user it could never log in is a mistake.
      name: z.string({ error: "must be a string" }).refine(
        (name) =>
          name.length >= 1 && name.length <= 128 &&
          [...name].every((character) => {
            const code = character.charCodeAt(0);
            return code >= 0x20 && code !== 0x7f;
          }),
        "must be 1 to 128 characters, no control characters",
      ),
      secret: secretString,
      permissions: z.array(
        z.enum(["READ", "WRITE", "MANAGE"], {
          error: "must be READ, WRITE or MANAGE",
        }),
        { error: "must be an array of permissions" },
      ).min(1, "must grant at least one permission"),
    }, {
      error: objectError("must be an object with name, secret and permissions"),
    }),
    { error: "must be an array of users" },
  ).optional(),
  ...appSettings,
}, {
  error: objectError("must be an object with id, path, jwtSecret and apiKeys"),
});

const fileSchema = z.strictObject({
  ...appSettings,
  apps: z.array(app, { error: "must be an array of apps" }).optional(),
}, { error: objectError("must be a JSON object") });

/** What an app's (or the default app's) channels do, and whom it tells. */
export interface AppSettings {
  /** Channel settings by namespace (a channel's first segment). */
  readonly namespaces: Readonly<Record<string, Partial<ChannelPolicy>>>;
  /** Where `trigger` requests go (SPEC §10); none without it. */
  readonly trigger?: TriggerConfig;
  /** The back-ends told what happens (SPEC §10). */
  readonly webhooks: readonly WebhookConfig[];
}

/** One user of an app, for the WebRocket protocol (SPEC §11). */
export interface AppUser {
  /** The user's name. */
  readonly name: string;
  /** Its secret, compared in constant time. */
  readonly secret: string;
  /** What it may do. */
  readonly permissions: readonly ("READ" | "WRITE" | "MANAGE")[];
}

/** One isolated app under its own path (SPEC §10). */
export interface AppConfig extends AppSettings {
  /** Names it in Redis keys and logs. */
  readonly id: string;
  /** Where it is served: `/world` serves `/world/websocket`, `/world/publish`, … */
  readonly path: string;
  /** The secret its tokens are signed with. */
  readonly jwtSecret: string;
  /** The keys its back-ends publish and call the server API with. */
  readonly apiKeys: readonly string[];
  /** Its WebRocket users. */
  readonly users: readonly AppUser[];
}

/** What a config file holds, validated: the default app's settings, and the other apps. */
export interface FileConfig extends AppSettings {
  /** The other apps. */
  readonly apps: readonly AppConfig[];
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
  const duplicates = duplicatesOf(parsed.data.apps ?? []);
  if (duplicates.length > 0) return { ok: false, problems: duplicates };
  return {
    ok: true,
    file: {
      ...settingsOf(parsed.data),
      apps: (parsed.data.apps ?? []).map((app) => ({
        ...settingsOf(app),
        id: app.id,
        path: app.path,
        jwtSecret: app.jwtSecret,
        apiKeys: app.apiKeys,
        users: app.users ?? [],
      })),
    },
  };
}

/**
 * Apps with an id or a path another already has, and users a name another
 * of the app's already has: each problem with its path.
 */
function duplicatesOf(
  apps: readonly {
    id: string;
    path: string;
    users?: readonly { name: string }[] | undefined;
  }[],
): string[] {
  const problems: string[] = [];
  apps.forEach((app, index) => {
    const users = app.users ?? [];
    users.forEach((user, at) => {
      const first = users.findIndex((other) => other.name === user.name);
      if (first < at) {
        problems.push(
          `CONFIG_FILE apps.${index}.users.${at}.name: ${
            JSON.stringify(user.name)
          } is users.${first}'s already`,
        );
      }
    });
    const earlier = apps.findIndex((other) => other.id === app.id);
    if (earlier < index) {
      problems.push(
        `CONFIG_FILE apps.${index}.id: ${
          JSON.stringify(app.id)
        } is apps.${earlier}'s already`,
      );
    }
    const clash = apps.findIndex((other, at) =>
      at < index && pathsOverlap(other.path, app.path)
    );
    if (clash >= 0) {
      problems.push(
        `CONFIG_FILE apps.${index}.path: ${
          JSON.stringify(app.path)
        } overlaps apps.${clash}'s ${JSON.stringify(apps[clash]?.path)}`,
      );
    }
  });
  return problems;
}

/** Whether one path is the other, or under it: a request could not tell them apart. */
export function pathsOverlap(a: string, b: string): boolean {
  const under = (inner: string, outer: string) =>
    outer === "" || inner === outer || inner.startsWith(`${outer}/`);
  return under(a, b) || under(b, a);
}

/** An app's settings as validated, `undefined`s dropped and the trigger resolved. */
function settingsOf(settings: {
  namespaces?: Record<string, Record<string, unknown>> | undefined;
  webhooks?: WebhookConfig[] | undefined;
  triggerUrl?: string | undefined;
  triggerSecret?: string | undefined;
}): AppSettings {
  const namespaces: Record<string, Partial<ChannelPolicy>> = {};
  for (const [name, values] of Object.entries(settings.namespaces ?? {})) {
    namespaces[name] = Object.fromEntries(
      Object.entries(values).filter(([, value]) => value !== undefined),
    ) as Partial<ChannelPolicy>;
  }
  const webhooks = settings.webhooks ?? [];
  const { triggerUrl, triggerSecret } = settings;
  if (triggerUrl === undefined) return { namespaces, webhooks };
  // SPEC §10: signed with triggerSecret, else the first webhook's secret, else not.
  const secret = triggerSecret ?? webhooks[0]?.secret;
  return {
    namespaces,
    webhooks,
    trigger: secret === undefined
      ? { url: triggerUrl }
      : { url: triggerUrl, secret },
  };
}
