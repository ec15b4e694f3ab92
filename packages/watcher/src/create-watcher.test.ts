import { trace } from "@opentelemetry/api";
import {
  createMemoryFleetState,
  createMemoryFleetStore,
  systemClock,
  type FleetState,
} from "@rrfleet/fleet-state";
import { createManualClock } from "@rrfleet/fleet-state/testing";
import { KubeError } from "@rrfleet/kube";
import { startTracing, traceparentOf } from "@rrfleet/telemetry";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import {
  createWatcher,
  type WatchableCluster,
  type Watcher,
  type WatcherLogger,
} from "./create-watcher.js";
import { makeFakeWatch, type FakeWatch } from "./testing/fake-watch.js";
import { createWatcherMetrics } from "./watcher-metrics.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const HEARTBEAT_MS = 100;

interface Harness {
  readonly state: FleetState;
  readonly watches: Map<string, FakeWatch[]>;
  clusters: WatchableCluster[];
  readonly watcher: Watcher;
  readonly stop: () => Promise<void>;
}

const running: Harness[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((h) => h.stop()));
});

function startHarness(
  clusters: WatchableCluster[],
  options: {
    state?: FleetState;
    tracer?: ReturnType<typeof trace.getTracer>;
    registry?: Registry;
    logger?: WatcherLogger;
    makeWatch?: () => FakeWatch;
  } = {},
): Harness {
  const state = options.state ?? createMemoryFleetState({ clock: systemClock });
  const watches = new Map<string, FakeWatch[]>();
  const harness: Harness = {
    state,
    watches,
    clusters,
    watcher: createWatcher({
      watcherId: "w1",
      state,
      clusters: () => harness.clusters,
      startWatch: (cluster) => {
        const watch = options.makeWatch?.() ?? makeFakeWatch();
        watches.set(cluster.name, [...(watches.get(cluster.name) ?? []), watch]);
        return Promise.resolve(watch);
      },
      heartbeatMs: HEARTBEAT_MS,
      tickMs: 10,
      publishIntervalMs: 20,
      clock: systemClock,
      logger: options.logger ?? silent,
      metrics: createWatcherMetrics(options.registry ?? new Registry()),
      tracer: options.tracer ?? trace.getTracer("test"),
    }),
    stop: async () => {
      abort.abort();
      await done;
    },
  };
  const abort = new AbortController();
  const done = harness.watcher.run(abort.signal);
  running.push(harness);
  return harness;
}

async function waitUntil(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("condition not reached in 20 s");
}

async function publishMap(state: FleetState, epoch: number, assignments: Record<string, string>) {
  const lease = await state.acquireOrRenew("leader", 60_000);
  await state.publishShardMap({ epoch, assignments }, { holder: "leader", epoch: lease.epoch });
}

const east = { name: "east", fingerprint: "f1" };
const west = { name: "west", fingerprint: "f1" };

describe("createWatcher", () => {
  it("heartbeats, and watches and publishes exactly the clusters the shard map gives it", async () => {
    const h = startHarness([east, west]);
    await publishMap(h.state, 1, { east: "w1", west: "w2" });

    await waitUntil(async () => (await h.state.readSnapshot("east")) !== undefined);

    expect((await h.state.listMembers(Date.now())).map((m) => m.watcherId)).toEqual(["w1"]);
    expect([...h.watches.keys()]).toEqual(["east"]);
    expect(await h.state.readSnapshot("west")).toBeUndefined();
    expect((await h.state.readSnapshot("east"))?.meta.watcher).toBe("w1");
    expect(h.watcher.status().shardMapEpoch).toBe(1);
  });

  it("publishes a burst of changes as few snapshots carrying the traceparent of its observe span", async () => {
    const ended: { name: string; traceparent: string }[] = [];
    const tracing = startTracing({
      serviceName: "test",
      spanProcessors: [
        {
          onStart: () => undefined,
          onEnd: (span) => {
            ended.push({ name: span.name, traceparent: traceparentOf(span as never) });
          },
          forceFlush: () => Promise.resolve(),
          shutdown: () => Promise.resolve(),
        },
      ],
    });
    try {
      const h = startHarness([east], { tracer: tracing.tracer });
      await publishMap(h.state, 1, { east: "w1" });
      await waitUntil(async () => (await h.state.readSnapshot("east")) !== undefined);
      for (const entry of await h.state.takeDirty(10)) await h.state.ackDirty(entry);

      const watch = h.watches.get("east")?.[0];
      for (let i = 0; i < 5; i++) watch?.change();
      await waitUntil(
        async () => (await h.state.readSnapshot("east"))?.snapshot.nodes.length === 10,
      );

      const stored = await h.state.readSnapshot("east");
      const observed = ended.filter((s) => s.name === "watcher.observe");
      expect(observed.length).toBeGreaterThanOrEqual(1);
      expect(observed.length).toBeLessThan(5);
      expect(observed.map((s) => s.traceparent)).toContain(stored?.meta.traceparent);
      const [entry] = await h.state.takeDirty(10);
      expect(entry?.traceparent).toBe(stored?.meta.traceparent);
    } finally {
      await tracing.shutdown();
    }
  });

  it("keeps a cluster the map moved away for one heartbeat period, then stops its watch", async () => {
    const h = startHarness([east]);
    await publishMap(h.state, 1, { east: "w1" });
    await waitUntil(() => h.watches.get("east")?.length === 1);
    const watch = h.watches.get("east")?.[0];

    await publishMap(h.state, 2, { east: "w2" });
    await waitUntil(() => h.watcher.status().clusters[0]?.releasingUntil !== undefined);
    expect(watch?.stopped).toBe(false);

    await waitUntil(() => watch?.stopped === true);
    expect(h.watcher.status().clusters).toEqual([]);
  });

  it("ignores a shard map older than the one it applied", async () => {
    const h = startHarness([east]);
    await publishMap(h.state, 5, { east: "w1" });
    await waitUntil(() => h.watches.get("east")?.length === 1);

    await publishMap(h.state, 4, { east: "w2" });
    await new Promise((resolve) => setTimeout(resolve, 3 * HEARTBEAT_MS));

    expect(h.watches.get("east")?.[0]?.stopped).toBe(false);
    expect(h.watcher.status().clusters[0]?.releasingUntil).toBeUndefined();
  });

  // After Redis restarts empty the new leader's map starts again at epoch 1: a watcher that
  // compared map epochs alone ignored it until the epoch climbed past the old one, and the
  // clusters the new map moved were watched by nobody meanwhile.
  it.each([
    { name: "a standby takes over above the old lease epoch", wantLeaseEpoch: 8, forget: false },
    {
      name: "every applier restarted too: the lease epoch itself starts again at 1",
      wantLeaseEpoch: 1,
      forget: true,
    },
  ])(
    "applies the map a new leadership publishes after Redis was emptied, from epoch 1 ($name)",
    async ({ wantLeaseEpoch, forget }) => {
      const store = createMemoryFleetStore();
      const h = startHarness([east, west], {
        state: createMemoryFleetState({ clock: systemClock, store }),
      });
      const standby = createMemoryFleetState({ clock: systemClock, store });
      const old = await standby.acquireOrRenew("applier-a", 60_000, { minEpoch: 6 });
      await standby.publishShardMap(
        { epoch: 9, assignments: { east: "w1", west: "w2" } },
        { holder: "applier-a", epoch: old.epoch },
      );
      await waitUntil(() => h.watches.get("east")?.length === 1);

      store.clear();
      const leader = forget ? createMemoryFleetState({ clock: systemClock, store }) : standby;
      const lease = await leader.acquireOrRenew("applier-b", 60_000);
      await leader.publishShardMap(
        { epoch: 1, assignments: { east: "w2", west: "w1" } },
        { holder: "applier-b", epoch: lease.epoch },
      );

      expect(lease.epoch).toBe(wantLeaseEpoch);
      await waitUntil(() => h.watches.get("west")?.length === 1);
      await waitUntil(() => h.watches.get("east")?.[0]?.stopped === true);
      expect(h.watcher.status().shardMapEpoch).toBe(1);
    },
  );

  it("stops at once a cluster removed from the registry, and restarts one whose definition changed", async () => {
    const h = startHarness([east, west]);
    await publishMap(h.state, 1, { east: "w1", west: "w1" });
    await waitUntil(() => h.watches.size === 2);

    h.clusters = [{ name: "east", fingerprint: "f2" }];
    await waitUntil(() => h.watches.get("east")?.length === 2);

    expect(h.watches.get("west")?.[0]?.stopped).toBe(true);
    expect(h.watches.get("east")?.[0]?.stopped).toBe(true);
    expect(h.watches.get("east")?.[1]?.stopped).toBe(false);
  });

  it("reports an owned cluster it cannot connect to as not synced, and retries it", async () => {
    const state = createMemoryFleetState({ clock: systemClock });
    let reachable = false;
    let attempts = 0;
    const watcher = createWatcher({
      watcherId: "w1",
      state,
      clusters: () => [east],
      startWatch: () => {
        attempts++;
        return reachable
          ? Promise.resolve(makeFakeWatch())
          : Promise.reject(new Error("connection refused"));
      },
      heartbeatMs: HEARTBEAT_MS,
      tickMs: 10,
      startBackoff: { initialMs: 20, maxMs: 40 },
      clock: systemClock,
      logger: silent,
      metrics: createWatcherMetrics(new Registry()),
      tracer: trace.getTracer("test"),
    });
    const abort = new AbortController();
    const done = watcher.run(abort.signal);
    try {
      await publishMap(state, 1, { east: "w1" });
      await waitUntil(() => attempts >= 2);
      expect(watcher.status().clusters).toEqual([
        { name: "east", synced: false, lastError: "connection refused" },
      ]);

      reachable = true;
      await waitUntil(() => watcher.status().clusters[0]?.synced === true);
      expect(watcher.status().clusters).toEqual([{ name: "east", synced: true }]);
    } finally {
      abort.abort();
      await done;
    }
  });

  it("logs and counts the failures it used to drop: a watch that never syncs, an unreadable shard map, a failed leave", async () => {
    const memory = createMemoryFleetState({ clock: systemClock });
    let mapReadable = true;
    const state: FleetState = {
      ...memory,
      readShardMap: () =>
        mapReadable ? memory.readShardMap() : Promise.reject(new Error("redis: connection lost")),
      leave: () => Promise.reject(new Error("redis: connection lost")),
    };
    const registry = new Registry();
    const warnings: string[] = [];
    const logger = {
      ...silent,
      warn: (_fields: object, message: string) => warnings.push(message),
    };
    const h = startHarness([east], {
      state,
      registry,
      logger,
      makeWatch: () => ({
        ...makeFakeWatch(),
        isSynced: () => false,
        waitForSync: () => Promise.reject(new Error("the watch stopped before its first list")),
      }),
    });
    const count = async (operation: string): Promise<number> => {
      const metric = registry.getSingleMetric("rrfleet_background_errors_total");
      const values = (await metric?.get())?.values ?? [];
      return values.find((v) => v.labels["operation"] === operation)?.value ?? 0;
    };
    await publishMap(memory, 1, { east: "w1" });
    await waitUntil(async () => (await count("waitForSync")) === 1);

    mapReadable = false;
    await waitUntil(async () => (await count("readShardMap")) >= 1);
    await h.stop();

    expect(await count("leave")).toBe(1);
    expect(warnings).toEqual(
      expect.arrayContaining([
        "the cluster's watch failed before its first sync; it is not published and /readyz lists it",
        "could not read the shard map; keeping the current watches",
        "could not leave the membership; my entry expires after 3 heartbeats",
      ]),
    );
  });

  it("backs off with jitter from an owned cluster it cannot connect to, warning once, and tells the leader why", async () => {
    const clock = createManualClock();
    const state = createMemoryFleetState({ clock });
    const registry = new Registry();
    const logged: { level: string; message: string }[] = [];
    const log =
      (level: string) =>
      (_fields: object, message: string): void => {
        logged.push({ level, message });
      };
    let attempts = 0;
    const watcher = createWatcher({
      watcherId: "w1",
      state,
      clusters: () => [east],
      startWatch: () => {
        attempts++;
        return Promise.reject(
          new KubeError(
            "Unavailable",
            "list nodes: cannot reach the API server (ECONNREFUSED 10.0.0.1:6443)",
            { retryable: true },
          ),
        );
      },
      heartbeatMs: 1_000,
      tickMs: 100,
      startBackoff: { initialMs: 1_000, maxMs: 8_000 },
      random: () => 0.5,
      clock,
      logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
      metrics: createWatcherMetrics(registry),
      tracer: trace.getTracer("test"),
    });
    const abort = new AbortController();
    const done = watcher.run(abort.signal);
    const settle = async (): Promise<void> => {
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    try {
      await publishMap(state, 1, { east: "w1" });
      // 10 s in 100 ms ticks. Retries (jitter 0.5 of a doubling cap from 1 s) at 0.5, 1.5, 3.5,
      // 7.5 s: 5 attempts, where one per tick would be 100.
      for (let i = 0; i < 100; i++) {
        await clock.advance(100);
        await settle();
      }

      expect(attempts).toBe(5);
      const startErrors = registry.getSingleMetric("rrfleet_watch_start_errors_total");
      expect((await startErrors?.get())?.values[0]?.value).toBe(5);
      const failures = logged.filter((l) => l.message.startsWith("could not start watching"));
      expect(failures.map((l) => l.level)).toEqual(["warn", "debug", "debug", "debug", "debug"]);
      expect(await state.readWatchProblem("east")).toMatchObject({
        watcher: "w1",
        reason: "Unavailable",
        message: "list nodes: cannot reach the API server (ECONNREFUSED 10.0.0.1:6443)",
        attempts: 5,
      });
      expect(watcher.status().clusters).toEqual([
        {
          name: "east",
          synced: false,
          lastError: "list nodes: cannot reach the API server (ECONNREFUSED 10.0.0.1:6443)",
        },
      ]);
      // The leader hears of it: the cluster is marked dirty once, on the first failure.
      const [entry] = await state.takeDirty(10);
      expect(entry).toMatchObject({ cluster: "east", reason: "WatchFailing", marks: 1 });
    } finally {
      abort.abort();
      await done;
    }
  });

  it("stops every watch and leaves the membership when stopped", async () => {
    const h = startHarness([east]);
    await publishMap(h.state, 1, { east: "w1" });
    await waitUntil(() => h.watches.get("east")?.length === 1);

    await h.stop();

    expect(h.watches.get("east")?.[0]?.stopped).toBe(true);
    expect(await h.state.listMembers(Date.now())).toEqual([]);
  });
});
