/**
 * SPEC §11 (WebRocket) across two real nodes on a real `redis-server`: a
 * channel subscribed to on one node exists on the other, whose broadcast
 * reaches the subscriber, and apps stay apart.
 */

import assert from "node:assert/strict";
import { RedisServer, redisTest } from "../support/redis.ts";
import { WebRocketClient, withVhosts } from "../support/webrocket.ts";

redisTest(
  "webrocket on two nodes: subscribed on one, broadcast on the other: the channel exists and the subscriber gets it",
  async () => {
    await using redis = await RedisServer.start();
    const env = { ENGINE: "redis", REDIS_URL: redis.url };
    await withVhosts(async (_one, vhostOne) => {
      await withVhosts(async (_two, vhostTwo) => {
        await using reader = await WebRocketClient.as(
          vhostOne("/world"),
          "reader",
          "r34d",
        );
        await reader.ask({ subscribe: { channel: "hello" } });
        await using joe = await WebRocketClient.as(
          vhostTwo("/world"),
          "joe",
          "53cr37",
        );
        assert.deepEqual(
          await joe.ask({
            broadcast: { event: "hi", channel: "hello", data: 1 },
          }),
          { broadcasted: "hello" },
        );
        assert.deepEqual(await reader.next("hi"), {
          hi: { channel: "hello", data: 1 },
        });
        await using mars = await WebRocketClient.as(
          vhostTwo("/mars"),
          "joe",
          "m4r5",
        );
        assert.equal(
          (await mars.ask({ broadcast: { event: "hi", channel: "hello" } }))
            .err,
          "CHANNEL_NOT_FOUND",
          "another app's channel of the same name",
        );
      }, { env });
    }, { env });
  },
);
