/**
 * `GET {app path}` with a WebSocket upgrade (e.g. `/world`, the vhost): the
 * WebRocket protocol of an app with users (SPEC §10, §11). Clients
 * authenticate in-band, so the upgrade itself needs no token; the origin
 * policy holds as for every socket.
 *
 * @module
 */

import type { AppUser } from "../config_file.ts";
import type {
  Input,
  Protocol,
  ProtocolConnection,
} from "../protocol/effects.ts";
import type {
  WebRocketEffect,
  WebRocketInput,
} from "../protocol/webrocket/effects.ts";
import { WEBROCKET_FRAMING } from "../protocol/webrocket/frames.ts";
import { reduce } from "../protocol/webrocket/reducer.ts";
import {
  type WebRocketState,
  webRocketState,
} from "../protocol/webrocket/state.ts";
import type { Services } from "../services.ts";
import * as core from "./core_effects.ts";
import { accept } from "./websocket.ts";

/** The WebRocket protocol of one app, and its users by name. */
export interface WebRocketEndpoint {
  /** The protocol its connections run. */
  readonly protocol: Protocol<WebRocketState, WebRocketEffect, WebRocketInput>;
  /** The app's users, one map for every connection. */
  readonly users: ReadonlyMap<string, AppUser>;
}

/** Builds the WebRocket protocol over an app's `services`; `null` for an app without users. */
export function webRocketEndpoint(
  services: Services,
): WebRocketEndpoint | null {
  const { users } = services.config;
  if (users.length === 0) return null;
  return {
    protocol: {
      name: "webrocket",
      reduce,
      framing: WEBROCKET_FRAMING,
      perform: (effect, connection) =>
        effect.kind === "admitUser"
          ? {
            kind: "userAdmitted",
            user: effect.user,
            overUserLimit: core.overUserLimit(
              services,
              effect.user,
              connection,
            ),
          }
          : broadcastToExisting(services, effect, connection),
    },
    users: new Map(users.map((user) => [user.name, user])),
  };
}

/**
 * A broadcast goes only to a channel that exists (someone subscribed, or
 * something was published): then it is published as any client publish is.
 */
async function broadcastToExisting(
  services: Services,
  effect: Extract<WebRocketEffect, { kind: "broadcastToExisting" }>,
  connection: ProtocolConnection,
): Promise<Input | WebRocketInput> {
  const { message, requestId } = effect;
  try {
    if (!await services.engine.exists(message.channel)) {
      return { kind: "channelNotFound", requestId };
    }
  } catch {
    // As a failed publish: the engine is unavailable.
  }
  return await core.publish(
    services,
    { kind: "publish", message, requestId },
    connection.id,
    connection.user ?? "",
  );
}

/** Upgrades `request` to a WebRocket connection of the app. */
export function handleWebRocketUpgrade(
  request: Request,
  remote: string,
  context: {
    readonly services: Services;
    readonly endpoint: WebRocketEndpoint;
  },
): Response {
  const { services, endpoint } = context;
  return accept(request, services, {
    protocol: endpoint.protocol,
    state: (connectionId) =>
      webRocketState(connectionId, services.limits, endpoint.users),
    remote,
    user: null,
  });
}
