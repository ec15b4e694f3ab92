/**
 * The watcher loop on a real redis-server (fleet-state's Redis adapter), with in-memory cluster
 * watches: publishes land in Redis, a hand-off between two watchers leaves no gap, and a FLUSHALL
 * is rebuilt by the heartbeat republish.
 */
import { trace } from "@opentelemetry/api";
import { connectRedis, createRedisFleetState, systemClock } from "@rrfleet/fleet-state";
import { startRedisServer, type RedisServer } from "@rrfleet/fleet-state/testing";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createWatcher, type WatchableCluster } from "./create-watcher.js";
import { makeFakeWatch, type FakeWatch } from "./testing/fake-watch.js";
import { createWatcherMetrics } from "./watcher-metrics.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const HEARTBEAT_MS = 200;

let server: RedisServer;
let prefixes = 0;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  server = await startRedisServer();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await server.stop();
});

/** What happened to the fake watches, in order, across watchers: `start w1 east`, `stop …`. */
type Journal = string[];

function makeJournaledWatch(journal: Journal, label: string): FakeWatch {
  journal.push(`start ${label}`);
  return makeFakeWatch(4, () => journal.push(`stop ${label}`));
}

/** A fresh key prefix on the shared server, one Redis connection per watcher plus one for the test. */
async function openFleet() {
  const prefix = `watcher-int-${++prefixes}`;
  const open = async () => {
    const redis = await connectRedis(server.url);
    cleanups.push(() => {
      redis.disconnect();
      return Promise.resolve();
    });
    return { redis, state: createRedisFleetState(redis, { prefix }) };
  };
  const admin = await open();
  const publishMap = async (epoch: number, assignments: Record<string, string>) => {
    const lease = await admin.state.acquireOrRenew("leader", 60_000);
    await admin.state.publishShardMap(
      { epoch, assignments },
      { holder: "leader", epoch: lease.epoch },
    );
  };
  return { open, admin, publishMap };
}

async function startWatcher(
  fleet: Awaited<ReturnType<typeof openFleet>>,
  watcherId: string,
  clusters: readonly WatchableCluster[],
  journal: Journal,
) {
  const { state } = await fleet.open();
  const watches = new Map<string, FakeWatch>();
  const watcher = createWatcher({
    watcherId,
    state,
    clusters: () => clusters,
    startWatch: (cluster) => {
      const watch = makeJournaledWatch(journal, `${watcherId} ${cluster.name}`);
      watches.set(cluster.name, watch);
      return Promise.resolve(watch);
    },
    heartbeatMs: HEARTBEAT_MS,
    tickMs: 20,
    publishIntervalMs: 20,
    clock: systemClock,
    logger: silent,
    metrics: createWatcherMetrics(new Registry()),
    tracer: trace.getTracer("test"),
  });
  const abort = new AbortController();
  const done = watcher.run(abort.signal);
  const stop = async () => {
    abort.abort();
    await done;
  };
  cleanups.push(stop);
  return { watcher, watches, stop };
}

async function waitUntil(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("condition not reached in 20 s");
}

const east = { name: "east", fingerprint: "f1" };
const west = { name: "west", fingerprint: "f1" };

describe("createWatcher on a real redis-server", () => {
  it("publishes the snapshots of its clusters to Redis, and each change after it", async () => {
    const fleet = await openFleet();
    const w1 = await startWatcher(fleet, "w1", [east, west], []);
    await fleet.publishMap(1, { east: "w1", west: "w2" });

    await waitUntil(async () => (await fleet.admin.state.readSnapshot("east")) !== undefined);
    const first = await fleet.admin.state.readSnapshot("east");
    expect(first?.meta.watcher).toBe("w1");
    expect(first?.snapshot.nodes).toHaveLength(4);
    expect(await fleet.admin.state.readSnapshot("west")).toBeUndefined();
    expect((await fleet.admin.state.listMembers(Date.now())).map((m) => m.watcherId)).toEqual([
      "w1",
    ]);

    w1.watches.get("east")?.change();
    await waitUntil(
      async () => (await fleet.admin.state.readSnapshot("east"))?.snapshot.nodes.length === 5,
    );
    expect((await fleet.admin.state.readSnapshot("east"))?.hash).not.toBe(first?.hash);
  });

  it("hands a cluster to another watcher without a gap: the new owner starts before the old stops", async () => {
    const fleet = await openFleet();
    const journal: Journal = [];
    const w1 = await startWatcher(fleet, "w1", [east], journal);
    const w2 = await startWatcher(fleet, "w2", [east], journal);
    await fleet.publishMap(1, { east: "w1" });
    await waitUntil(async () => (await fleet.admin.state.readSnapshot("east")) !== undefined);

    await fleet.publishMap(2, { east: "w2" });
    await waitUntil(() => journal.includes("stop w1 east"));

    expect(journal.indexOf("start w2 east")).toBeGreaterThan(-1);
    expect(journal.indexOf("start w2 east")).toBeLessThan(journal.indexOf("stop w1 east"));
    expect(w1.watcher.status().clusters).toEqual([]);
    expect(w2.watcher.status().clusters.map((c) => c.name)).toEqual(["east"]);

    // The new owner's changes land in Redis.
    w2.watches.get("east")?.change();
    await waitUntil(async () => {
      const stored = await fleet.admin.state.readSnapshot("east");
      return stored?.meta.watcher === "w2" && stored.snapshot.nodes.length === 5;
    });
  });

  it("moves its clusters at once when stopped: it leaves the membership", async () => {
    const fleet = await openFleet();
    const w1 = await startWatcher(fleet, "w1", [east], []);
    await startWatcher(fleet, "w2", [east], []);
    await waitUntil(async () => (await fleet.admin.state.listMembers(Date.now())).length === 2);

    await w1.stop();

    expect((await fleet.admin.state.listMembers(Date.now())).map((m) => m.watcherId)).toEqual([
      "w2",
    ]);
  });

  it("rebuilds an emptied Redis from its watches and marks the clusters dirty", async () => {
    const fleet = await openFleet();
    await startWatcher(fleet, "w1", [east, west], []);
    await fleet.publishMap(1, { east: "w1", west: "w1" });
    await waitUntil(async () => (await fleet.admin.state.readSnapshot("west")) !== undefined);

    await fleet.admin.redis.flushall();
    expect(await fleet.admin.state.readSnapshot("east")).toBeUndefined();
    // The shard map went too; the leader republishes it (here: the test).
    await fleet.publishMap(2, { east: "w1", west: "w1" });

    await waitUntil(async () => {
      const [e, w] = await Promise.all([
        fleet.admin.state.readSnapshot("east"),
        fleet.admin.state.readSnapshot("west"),
      ]);
      return e !== undefined && w !== undefined;
    });
    await waitUntil(async () => (await fleet.admin.state.countDirty()) === 2);
    expect((await fleet.admin.state.listMembers(Date.now())).map((m) => m.watcherId)).toEqual([
      "w1",
    ]);
  });

  it("follows the map a new leader publishes from epoch 1 after a FLUSHALL, when it moves clusters", async () => {
    const fleet = await openFleet();
    const journal: Journal = [];
    await startWatcher(fleet, "w1", [east, west], journal);
    await startWatcher(fleet, "w2", [east, west], journal);
    await fleet.publishMap(7, { east: "w1", west: "w1" });
    await waitUntil(() => journal.includes("start w1 west"));

    await fleet.admin.redis.flushall();
    // The next leader finds no map and starts again at 1, and moves west to w2.
    const lease = await fleet.admin.state.acquireOrRenew("leader-2", 60_000);
    await fleet.admin.state.publishShardMap(
      { epoch: 1, assignments: { east: "w1", west: "w2" } },
      { holder: "leader-2", epoch: lease.epoch },
    );

    await waitUntil(() => journal.includes("stop w1 west"));
    expect(journal).toContain("start w2 west");
    expect(journal.indexOf("start w2 west")).toBeLessThan(journal.indexOf("stop w1 west"));
  });
});
