/**
 * SPEC §11 (Nova) across two real nodes on a real `redis-server`: a
 * stream's state published through one node is replayed and reported by
 * the other, and viewer counts are the cluster's.
 */

import assert from "node:assert/strict";
import { cluster } from "../support/cluster.ts";
import { NovaClient, novaUrl, viewerClaims } from "../support/nova_client.ts";
import { redisTest } from "../support/redis.ts";
import { restPublish } from "../support/server.ts";

redisTest(
  "nova on two nodes: stream_started published on one is replayed on the other; counts and stream_info are cluster-wide",
  async () => {
    await using nodes = await cluster();
    for (
      const [event, payload] of [
        ["stream_started", { broadcaster_id: "user-123", quality: "1080p" }],
        ["quality_changed", { new_quality: "720p", new_bitrate_kbps: 3000 }],
      ] as const
    ) {
      const response = await restPublish(nodes.one.base, {
        channel: "streams:c1",
        event,
        payload,
      });
      assert.equal(response.status, 200);
      await response.body?.cancel();
    }
    await using far = await NovaClient.connect(
      novaUrl(nodes.two.base, "c1"),
      viewerClaims("c1", "far"),
    );
    assert.equal(far.frames.values[1]?.event, "stream_started");
    await using near = await NovaClient.connect(
      novaUrl(nodes.one.base, "c1"),
      viewerClaims("c1", "near"),
    );
    const counted = await far.next(
      "viewer_count_changed",
      (data) => data.viewer_count === 2,
    );
    assert.equal(counted.peak_viewers, 2);
    far.send("get_stream_info", { request_id: "x" });
    const info = await far.next("stream_info");
    assert.equal(info.status, "active");
    assert.equal(info.quality, "720p");
    assert.equal(info.viewer_count, 2);
    assert.equal(
      (await near.next(
        "viewer_count_changed",
        (data) => data.viewer_count === 2,
      )).stream_id,
      "c1",
    );
  },
);
