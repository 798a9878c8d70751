/**
 * The Nova dialect's own effects, carried out against the core: a stream's
 * info (its latest state from the engine, its viewers from presence, its
 * peak from this node's {@linkcode StreamPeaks}) and a viewer's issue
 * report (logged, and sent to the back-end as a `report_issue` webhook).
 *
 * @module
 */

import { log } from "../log.ts";
import type { NovaEffect, NovaInput } from "../protocol/nova/effects.ts";
import type { StreamPeaks } from "../protocol/nova/frames.ts";
import { streamIdOf } from "../protocol/nova/stream.ts";
import type { ProtocolConnection } from "../protocol/effects.ts";
import type { CoreServices } from "./core_effects.ts";

const logger = log("nova");

/** What the Nova effects run against. */
export interface NovaServices
  extends Pick<CoreServices, "engine" | "presence" | "webhooks"> {
  /** This node's stream peaks, shared with the Nova framing. */
  readonly peaks: StreamPeaks;
}

/** Carries out one Nova effect for `connection`. */
export function performNova(
  services: NovaServices,
  effect: NovaEffect,
  connection: ProtocolConnection,
): Promise<NovaInput> | undefined {
  switch (effect.kind) {
    case "streamInfo":
      return streamInfo(services, effect, connection.id);
    case "reportIssue":
      reportIssue(services, effect, connection);
      return undefined;
  }
}

async function streamInfo(
  services: NovaServices,
  { channel, requestId }: Extract<NovaEffect, { kind: "streamInfo" }>,
  connectionId: string,
): Promise<NovaInput> {
  try {
    const [latest, counts] = await Promise.all([
      services.engine.latest(channel),
      services.presence.counts(channel),
    ]);
    return {
      kind: "streamInfoRead",
      requestId,
      latest,
      viewers: counts.connections,
      peak: services.peaks.of(channel),
    };
  } catch (error) {
    logger.warning("viewer {connectionId}: stream info failed: {error}", {
      connectionId,
      error: String(error),
    });
    return { kind: "streamInfoFailed", requestId };
  }
}

function reportIssue(
  services: NovaServices,
  { channel, report }: Extract<NovaEffect, { kind: "reportIssue" }>,
  connection: ProtocolConnection,
): void {
  logger.info(
    "viewer {connectionId} of {user} reports on stream {streamId}: {issueType} ({severity})",
    {
      connectionId: connection.id,
      user: connection.user,
      streamId: streamIdOf(channel),
      issueType: report.issue_type,
      severity: report.severity,
      report,
    },
  );
  if (services.webhooks.wants("report_issue")) {
    services.webhooks.add({
      name: "report_issue",
      channel,
      ...(connection.user === null ? {} : { user: connection.user }),
      payload: report,
    });
  }
}
