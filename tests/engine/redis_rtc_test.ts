/**
 * SPEC §11 across two real nodes on a real `redis-server`: the RTC dialect
 * rides the same cluster engine and presence as the native protocol. A
 * `Broadcast` on one node reaches RTC and native subscribers on the other and
 * counts them; a `DirectMessage` names the target's connections on every
 * node; `Presence` crosses nodes.
 */

import assert from "node:assert/strict";
import { TestClient } from "../support/client.ts";
import { cluster } from "../support/cluster.ts";
import { redisTest } from "../support/redis.ts";
import { RtcClient, rtcUrl } from "../support/rtc_client.ts";

const CLAIMS = {
  authorizedChannels: ["chat:general"],
  scope: ["subscribe", "publish", "direct"],
};

redisTest(
  "rtc on two nodes: a Broadcast reaches both nodes' RTC and native subscribers and counts them; delivered_to spans the nodes",
  async () => {
    await using nodes = await cluster();
    await using sender = await RtcClient.connect(rtcUrl(nodes.one.base), {
      ...CLAIMS,
      sub: "alice",
    });
    await using far = await RtcClient.connect(rtcUrl(nodes.two.base), {
      ...CLAIMS,
      sub: "bob",
    });
    await using near = await RtcClient.connect(rtcUrl(nodes.one.base), {
      ...CLAIMS,
      sub: "bob",
    });
    await using native = await TestClient.authed(nodes.two.websocketUrl, {
      ...CLAIMS,
      sub: "carol",
    });
    await far.subscribe("chat.general");
    await native.ok("subscribe", { channel: "chat:general" });
    await sender.subscribe("chat.general");
    // A native subscriber's join and an RTC one's from the other node alike.
    assert.equal((await far.next("Presence")).user_id, "carol");
    const online = await far.next("Presence");
    assert.equal(online.user_id, "alice", "told across nodes");
    assert.equal(online.status, "online");

    const ack = await sender.request("Broadcast", {
      topic: "chat.general",
      payload: { n: 1 },
    }, "m1");
    assert.deepEqual(ack.data, {
      message_id: "m1",
      status: "delivered",
      recipients: 3,
    });
    assert.deepEqual((await far.next("Broadcast")).payload, { n: 1 });
    assert.deepEqual((await sender.next("Broadcast")).payload, { n: 1 });
    assert.deepEqual((await native.broadcast()).payload, { n: 1 });

    const dm = await sender.request("DirectMessage", {
      target_user: "bob",
      payload: "hi",
    }, "d1");
    const ids = [far, near].map((bob) =>
      bob.frames.values[0]?.data.details.connection_id
    );
    assert.deepEqual([...dm.data.delivered_to].sort(), [...ids].sort());
    for (const bob of [far, near]) {
      assert.equal((await bob.next("DirectMessage")).from_user, "alice");
    }
  },
);
