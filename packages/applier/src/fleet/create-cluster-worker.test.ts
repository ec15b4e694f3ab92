import { createMemoryFleetState, systemClock, type FleetState } from "@rrfleet/fleet-state";
import { describe, expect, it } from "vitest";
import {
  makeFakeLeaderDeps,
  makeFakeMember,
  silentLogger,
  startFakeWatchers,
  waitUntil,
} from "../testing/fake-fleet.js";
import { createFakeCluster } from "../testing/fake-cluster.js";
import { applyActions, DEFAULT_POLICY, planCluster } from "@rrfleet/topology-core";
import { makeCluster, makeNodes } from "@rrfleet/topology-core/testing";
import { KubeError } from "@rrfleet/kube";
import { createClusterWorker } from "./create-cluster-worker.js";
import { campaignForLeadership } from "./leader-election.js";

const timing = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 200 };

describe("createClusterWorker", () => {
  it("logs and counts a failed ack and a failed delayed re-mark instead of dropping them", async () => {
    const memory = createMemoryFleetState({ clock: systemClock, dirtyTakeTimeoutMs: 50 });
    const state: FleetState = {
      ...memory,
      ackDirty: () => Promise.reject(new Error("redis: connection lost")),
      markDirty: () => Promise.reject(new Error("redis: connection lost")),
    };
    const member = makeFakeMember("east");
    const warnings: string[] = [];
    const logger = {
      ...silentLogger,
      warn: (_fields: object, message: string) => {
        warnings.push(message);
      },
      child: () => logger,
    };
    const base = makeFakeLeaderDeps(state, [member]);
    const deps = {
      ...base,
      logger,
      // The cluster cannot be reached: the pass fails, is retried after 1–2 ms, and acked.
      openCluster: () => Promise.reject(new Error("connect ECONNREFUSED 10.0.0.1:6443")),
      settings: { ...base.settings, backoff: { initialMs: 1, maxMs: 2 } },
    };
    const stop = new AbortController();
    const leadership = await campaignForLeadership(
      { lease: memory, candidateId: "a", timing, clock: systemClock, logger: silentLogger },
      stop.signal,
    );
    await memory.publishSnapshot("east", member.fake.state(), { watcher: "w1", observedAt: 1 });
    await memory.markDirty("east", { reason: "Resync" });
    const [entry] = await memory.takeDirty(1);
    if (entry === undefined) throw new Error("no dirty entry");
    const worker = createClusterWorker(deps, leadership, () => undefined, {
      nodeCounts: new Map(),
      statusHistory: new Map(),
    });
    const count = async (operation: string): Promise<number> => {
      const values = (await deps.fleetMetrics.backgroundErrors.get()).values;
      return values.find((v) => v.labels.operation === operation)?.value ?? 0;
    };

    await worker.handle(entry, stop.signal);
    await waitUntil(async () => (await count("markDirty")) === 1);
    await worker.idle();
    stop.abort();
    await leadership.release();

    expect(await count("ackDirty")).toBe(1);
    expect(warnings).toEqual(
      expect.arrayContaining([
        "could not acknowledge the dirty entry; it is delivered again after its visibility timeout",
        "could not mark the cluster dirty again; the periodic resync plans it",
      ]),
    );
  });

  it("plans a cluster again when a NotReady reflector's grace ends, not at the next resync", async () => {
    // A converged cluster whose first reflector went NotReady 1 s short of its grace period.
    let converged = makeCluster(makeNodes(12));
    for (let plan = planCluster(converged, DEFAULT_POLICY, new Date()); plan.steps.length > 0;) {
      converged = applyActions(converged, plan.steps[0]?.actions ?? []);
      plan = planCluster(converged, DEFAULT_POLICY, new Date());
    }
    const victim = converged.nodes.find((n) => n.routeReflectorClusterId !== undefined)?.name;
    const since = new Date(Date.now() - (DEFAULT_POLICY.notReadyGraceSeconds - 1) * 1000);
    const member = {
      name: "east",
      fake: createFakeCluster({
        ...converged,
        nodes: converged.nodes.map((n) =>
          n.name === victim ? { ...n, ready: false, readyTransitionTime: since.toISOString() } : n,
        ),
      }),
      writes: [],
      sessionEpochs: [],
    };
    const memory = createMemoryFleetState({ clock: systemClock, dirtyTakeTimeoutMs: 50 });
    const deps = makeFakeLeaderDeps(memory, [member]); // resync every 60 s: too late to matter
    const stopWatchers = startFakeWatchers(memory, [member]);
    const stop = new AbortController();
    const leadership = await campaignForLeadership(
      { lease: memory, candidateId: "a", timing, clock: systemClock, logger: silentLogger },
      stop.signal,
    );
    const worker = createClusterWorker(deps, leadership, () => undefined, {
      nodeCounts: new Map(),
      statusHistory: new Map(),
    });
    try {
      await memory.markDirty("east", { reason: "Resync" });
      const [first] = await memory.takeDirty(1);
      if (first === undefined) throw new Error("no dirty entry");
      await worker.handle(first, stop.signal);
      expect(member.writes).toEqual([]); // within grace: nothing to do yet

      // About a second later the cluster is due again, by itself.
      const deadline = Date.now() + 5_000;
      let again = await memory.takeDirty(1);
      while (again.length === 0 && Date.now() < deadline) again = await memory.takeDirty(1);
      expect(again[0]?.reason).toBe("GraceEnds");
    } finally {
      stop.abort();
      stopWatchers();
      await worker.idle();
      await leadership.release();
    }
  });

  it("writes why a cluster is not watched into its status when there is no snapshot to plan from", async () => {
    const state = createMemoryFleetState({ clock: systemClock, dirtyTakeTimeoutMs: 50 });
    const member = makeFakeMember("east");
    const deps = makeFakeLeaderDeps(state, [member]);
    const stop = new AbortController();
    const leadership = await campaignForLeadership(
      { lease: state, candidateId: "a", timing, clock: systemClock, logger: silentLogger },
      stop.signal,
    );
    const message = "list nodes: cannot reach the API server (ECONNREFUSED 10.0.0.1:6443)";
    await state.reportWatchProblem(
      "east",
      { watcher: "w1", reason: "Unavailable", message, attempts: 4, at: 1_000 },
      60_000,
    );
    await state.markDirty("east", { reason: "WatchFailing" });
    const [entry] = await state.takeDirty(1);
    if (entry === undefined) throw new Error("no dirty entry");
    const worker = createClusterWorker(deps, leadership, () => undefined, {
      nodeCounts: new Map(),
      statusHistory: new Map(),
    });

    await worker.handle(entry, stop.signal);
    stop.abort();
    await leadership.release();

    expect((await state.readStatuses())["east"]).toMatchObject({
      phase: "Failing",
      reason: "Unavailable",
      message: `watcher w1 cannot watch the cluster: ${message}`,
      failures: 4,
      lastError: {
        reason: "Unavailable",
        message: `watcher w1 cannot watch the cluster: ${message}`,
      },
    });
    expect(member.writes).toEqual([]);
  });

  it("warns once about a cluster that keeps failing, logs the retries at debug, and counts each", async () => {
    const state = createMemoryFleetState({ clock: systemClock, dirtyTakeTimeoutMs: 50 });
    const member = makeFakeMember("east");
    const logged: { level: string; message: string }[] = [];
    const log =
      (level: string) =>
      (_fields: object, message: string): void => {
        logged.push({ level, message });
      };
    const logger = {
      debug: log("debug"),
      info: log("info"),
      warn: log("warn"),
      error: log("error"),
      child: () => logger,
    };
    const base = makeFakeLeaderDeps(state, [member]);
    const deps = {
      ...base,
      logger,
      openCluster: () =>
        Promise.reject(
          new KubeError("Unavailable", "get nodes: cannot reach the API server (ECONNREFUSED)", {
            retryable: true,
          }),
        ),
      settings: { ...base.settings, backoff: { initialMs: 60_000, maxMs: 60_000 } },
    };
    const stop = new AbortController();
    const leadership = await campaignForLeadership(
      { lease: state, candidateId: "a", timing, clock: systemClock, logger: silentLogger },
      stop.signal,
    );
    await state.publishSnapshot("east", member.fake.state(), { watcher: "w1", observedAt: 1 });
    const worker = createClusterWorker(deps, leadership, () => undefined, {
      nodeCounts: new Map(),
      statusHistory: new Map(),
    });

    for (let generation = 1; generation <= 3; generation++) {
      await worker.handle(
        {
          cluster: "east",
          reason: "Retry",
          marks: 1,
          firstMarkedAt: 0,
          lastMarkedAt: 0,
          generation,
          deliveries: 1,
        },
        stop.signal,
      );
    }
    stop.abort();
    await worker.idle();
    await leadership.release();

    const failures = logged.filter((l) => l.message.startsWith("cluster pass failed"));
    expect(failures.map((l) => l.level)).toEqual(["warn", "debug", "debug"]);
    const errors = (await deps.metrics.writeErrors.get()).values;
    expect(errors.find((v) => v.labels.code === "Unavailable")?.value).toBe(3);
    expect((await state.readStatuses())["east"]).toMatchObject({
      phase: "Failing",
      failures: 3,
      lastError: { reason: "Unavailable" },
    });
  });
});
