/**
 * `GET {BASE_PATH}/presence?channel=C` and `GET {BASE_PATH}/presence/stats?channel=C`:
 * a channel's members and counts (SPEC §8), for back-end services holding
 * an API key. The same answers as the socket's `presence` and `presenceStats`.
 *
 * @module
 */

import { presenceJson, presenceStatsJson } from "../protocol/presence.ts";
import type { Services } from "../services.ts";
import { refuseWithoutApiKey } from "./api_key_guard.ts";
import { channelQuery } from "./channel_query.ts";
import {
  engineFailureResponse,
  type HeaderList,
  withHeaders,
} from "./responses.ts";

/** Answers `GET /presence`: `200 {"connections","users","members"}` or a JSON error. */
export function handlePresence(
  request: Request,
  services: Services,
  headers: HeaderList,
): Promise<Response> {
  return answer(request, services, headers, false);
}

/** Answers `GET /presence/stats`: `200 {"connections","users"}` or a JSON error. */
export function handlePresenceStats(
  request: Request,
  services: Services,
  headers: HeaderList,
): Promise<Response> {
  return answer(request, services, headers, true);
}

async function answer(
  request: Request,
  services: Services,
  headers: HeaderList,
  stats: boolean,
): Promise<Response> {
  const refused = refuseWithoutApiKey(request, services.apiKeys, headers);
  if (refused !== null) return refused;
  const channel = channelQuery(new URL(request.url).searchParams, headers);
  if (channel instanceof Response) return channel;
  try {
    const body = stats
      ? presenceStatsJson(await services.presence.counts(channel))
      : presenceJson(
        await services.presence.snapshot(
          channel,
          services.config.presence.maxMembers,
        ),
      );
    services.metrics.presenceQueries.inc({
      kind: stats ? "stats" : "presence",
      transport: "rest",
    });
    return withHeaders(new Response(body), [
      ["content-type", "application/json"],
      ...headers,
    ]);
  } catch (error) {
    return engineFailureResponse("presence", error, headers);
  }
}
