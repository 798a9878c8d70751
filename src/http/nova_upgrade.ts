/**
 * `GET {NOVA_PATH}/{stream_id}/ws?token=` (default `NOVA_PATH`:
 * `/api/v1/streams`): the upgrade of the Nova Streaming viewer protocol
 * (SPEC §11). Refusals come before the upgrade, in the protocol's own
 * `error` shape: 404 for a stream id that cannot be one, 400 for a protocol
 * version other than 1.0, 401 for a missing or bad token, 403 for a token
 * that does not allow the stream's channel.
 *
 * @module
 */

import { allows } from "../protocol/authentication.ts";
import { isValidChannelName } from "../protocol/channel.ts";
import type { Protocol } from "../protocol/effects.ts";
import { formatTimestamp } from "../protocol/message.ts";
import type { NovaEffect, NovaInput } from "../protocol/nova/effects.ts";
import {
  endsStream,
  novaFraming,
  PROTOCOL_VERSION,
} from "../protocol/nova/frames.ts";
import { reduce } from "../protocol/nova/reducer.ts";
import { type NovaState, novaState } from "../protocol/nova/state.ts";
import { channelOf } from "../protocol/nova/stream.ts";
import type { Limits } from "../protocol/state.ts";
import type { Services } from "../services.ts";
import type { Refusal } from "./admission.ts";
import { performNova } from "./nova_effects.ts";
import { accept, authenticate, isUpgrade } from "./websocket.ts";

/** The document's message size: 256 KB (larger frames close 1009). */
export const NOVA_MAX_MESSAGE_BYTES = 256 * 1024;

/** The document's backlog: 100 messages per viewer, the oldest dropped. */
export const NOVA_BACKLOG_MESSAGES = 100;

/** The Nova protocol of one app's services, and the limits its viewers are held to. */
export interface NovaEndpoint {
  /** The protocol the viewers' connections run. */
  readonly protocol: Protocol<NovaState, NovaEffect, NovaInput>;
  /** The limits they are held to: the server's, with 256 KB messages and one subscription. */
  readonly limits: Limits;
}

/** Builds the Nova protocol over `services`: once per server, shared by its viewers. */
export function novaEndpoint(services: Services): NovaEndpoint {
  return {
    protocol: {
      name: "nova",
      reduce,
      framing: novaFraming(services.streamPeaks, services.clock),
      perform: (effect, connection) =>
        performNova(
          {
            engine: services.engine,
            presence: services.presence,
            webhooks: services.webhooks,
            peaks: services.streamPeaks,
          },
          effect,
          connection,
        ),
      backlog: {
        messages: NOVA_BACKLOG_MESSAGES,
        overflowed: () => ({ kind: "overflowed" }),
      },
      ends: endsStream,
    },
    limits: {
      ...services.limits,
      maxSubscriptions: 1,
      maxMessageBytes: NOVA_MAX_MESSAGE_BYTES,
    },
  };
}

/** What a refused viewer should do, by status. */
const SUGGESTED_ACTIONS: Readonly<Record<number, string>> = {
  400: "Connect with protocol=1.0, or without the parameter",
  401: "Get a new token, check its expiration",
  403: "Ask for a token that allows this stream",
  404: "Verify the stream ID",
  426: "Connect with a WebSocket",
  429: "Close other connections, then try again",
  503: "Try again later",
};

/** An HTTP refusal whose body is the protocol's `error` event. */
function refusal(
  status: number,
  code: string,
  message: string,
  services: Services,
  headers: readonly (readonly [string, string])[] = [],
): Response {
  const response = Response.json({
    event: "error",
    data: {
      error_code: code,
      error_message: message,
      severity: "error",
      recoverable: false,
      suggested_action: SUGGESTED_ACTIONS[status] ?? "Verify the stream ID",
      timestamp: formatTimestamp(services.clock()),
    },
  }, { status, headers: status === 426 ? { upgrade: "websocket" } : {} });
  for (const [name, value] of headers) response.headers.set(name, value);
  return response;
}

/**
 * A refusal over a cap (SPEC §12) as the protocol's `error` event: at
 * capacity `SERVER_ERROR`, over a cap of the viewer's own `RATE_LIMITED`.
 */
function capRefusal(refused: Refusal, services: Services): Response {
  return refusal(
    refused.status,
    refused.status === 503 ? "SERVER_ERROR" : "RATE_LIMITED",
    refused.message,
    services,
    refused.headers,
  );
}

/** Upgrades a viewer of stream `streamId`. */
export function handleNovaUpgrade(
  request: Request,
  streamId: string,
  context: {
    readonly remote: string;
    readonly services: Services;
    readonly endpoint: NovaEndpoint;
  },
): Response {
  const { services, endpoint } = context;
  if (!isUpgrade(request)) {
    return refusal(
      426,
      "PROTOCOL_ERROR",
      "expected a WebSocket upgrade",
      services,
    );
  }
  const channel = channelOf(streamId);
  if (streamId.includes(":") || !isValidChannelName(channel)) {
    return refusal(
      404,
      "STREAM_NOT_FOUND",
      "no stream can have that ID: letters, digits, _ and -, not ending in -, at most 247 characters",
      services,
    );
  }
  const query = new URL(request.url).searchParams;
  const version = query.get("protocol");
  if (version !== null && version !== PROTOCOL_VERSION) {
    return refusal(
      400,
      "PROTOCOL_ERROR",
      `protocol version ${
        JSON.stringify(version.slice(0, 16))
      } is not served: 1.0 is`,
      services,
    );
  }
  const token = query.get("token");
  if (token === null || token === "") {
    return refusal(
      401,
      "CONNECTION_REJECTED",
      "a token is required: ?token=",
      services,
    );
  }
  const outcome = authenticate(services, token);
  if (!outcome.ok) {
    return refusal(401, "CONNECTION_REJECTED", outcome.reason, services);
  }
  if (!allows(outcome.auth, "subscribe", channel)) {
    return refusal(
      403,
      "UNAUTHORIZED",
      `the token does not allow stream ${JSON.stringify(streamId)}`,
      services,
    );
  }
  return accept(request, services, {
    protocol: endpoint.protocol,
    state: (connectionId) =>
      novaState({
        connectionId,
        limits: endpoint.limits,
        auth: outcome.auth,
        streamId,
        heartbeat: services.config.novaHeartbeat,
      }),
    remote: context.remote,
    user: outcome.auth.subject,
    refuse: (refused) => capRefusal(refused, services),
  });
}
