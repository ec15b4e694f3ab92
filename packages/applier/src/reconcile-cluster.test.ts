import { createMemoryFleetState } from "@rrfleet/fleet-state";
import { DEFAULT_POLICY, planCluster, type ClusterSnapshot } from "@rrfleet/topology-core";
import { makeCluster, makeNodes } from "@rrfleet/topology-core/testing";
import { describe, expect, it } from "vitest";
import { createSharedTokenBucket } from "./fleet/shared-token-bucket.js";
import {
  reconcileCluster,
  type ReconcileDeps,
  type ReconcileOutcome,
} from "./reconcile-cluster.js";
import { createFakeClock } from "./testing/fake-clock.js";
import { createFakeCluster, type FakeCluster } from "./testing/fake-cluster.js";

/** A fresh controller's dependencies for the fake cluster: nothing carried over between calls. */
function depsFor(cluster: FakeCluster): ReconcileDeps {
  const clock = createFakeClock();
  const state = createMemoryFleetState({ clock });
  return {
    view: cluster.view,
    writer: cluster.writer,
    sessions: cluster.sessions,
    bucket: createSharedTokenBucket(
      state,
      [{ key: "cluster/test", shape: { ratePerSecond: 1000, burst: 1000 } }],
      clock,
    ),
    policy: DEFAULT_POLICY,
    clock,
    dryRun: false,
  };
}

/** A 12-node cluster taken, one pass at a time, to the point where the next step turns the mesh off. */
async function clusterBeforeMeshOff(): Promise<FakeCluster> {
  const cluster = createFakeCluster(makeCluster(makeNodes(12)));
  for (let pass = 0; pass < 10; pass++) {
    const next = planCluster(cluster.state(), DEFAULT_POLICY, new Date(0)).steps[0];
    if (next?.reason === "DisableNodeMesh") return cluster;
    await reconcileCluster(depsFor(cluster));
  }
  throw new Error("the plan never reached the mesh-off step");
}

const nextReason = (state: ClusterSnapshot) =>
  planCluster(state, DEFAULT_POLICY, new Date(0)).steps[0]?.reason;

describe("reconcileCluster", () => {
  it("writes nothing while a session the next step relies on is not Established, then goes on", async () => {
    const cluster = await clusterBeforeMeshOff();
    const writes = cluster.writes.length;
    cluster.missingSessions = [[{ node: "node-00000", peer: "node-00005" }]];

    const waiting = await reconcileCluster(depsFor(cluster));

    expect(waiting.kind).toBe("AwaitingSessions");
    expect(cluster.writes).toHaveLength(writes);
    expect(cluster.state().bgpConfiguration.nodeToNodeMeshEnabled).toBe(true);

    const applied: ReconcileOutcome = await reconcileCluster(depsFor(cluster));
    expect(applied.kind).toBe("StepApplied");
    expect(cluster.state().bgpConfiguration.nodeToNodeMeshEnabled).toBe(false);
  });

  it("holds the mesh-off step while a client lacks routes over its reflector sessions, though they are Established", async () => {
    const cluster = await clusterBeforeMeshOff();
    const writes = cluster.writes.length;
    cluster.missingRoutes = [[{ node: "node-00003", destinations: ["192.168.0.64/26"] }]];

    const waiting = await reconcileCluster(depsFor(cluster));

    expect(waiting).toMatchObject({
      kind: "AwaitingRoutes",
      routes: { missing: [{ node: "node-00003" }] },
    });
    expect(cluster.writes).toHaveLength(writes);

    const applied = await reconcileCluster(depsFor(cluster));
    expect(applied).toMatchObject({
      kind: "StepApplied",
      routes: { missing: [] },
    });
    expect(cluster.state().bgpConfiguration.nodeToNodeMeshEnabled).toBe(false);
  });

  it("fails closed: when reading routes errors, it throws and writes nothing", async () => {
    const cluster = await clusterBeforeMeshOff();
    const writes = cluster.writes.length;
    const deps: ReconcileDeps = {
      ...depsFor(cluster),
      sessions: {
        waitForSessions: cluster.sessions.waitForSessions.bind(cluster.sessions),
        waitForRoutes: () => Promise.reject(new Error("caliconodestatuses: 503")),
      },
    };

    await expect(reconcileCluster(deps)).rejects.toThrow(/503/);
    expect(cluster.writes).toHaveLength(writes);
  });

  it("fails closed: when confirming sessions errors, it throws and writes nothing", async () => {
    const cluster = await clusterBeforeMeshOff();
    const writes = cluster.writes.length;
    const deps: ReconcileDeps = {
      ...depsFor(cluster),
      sessions: {
        waitForSessions: () =>
          Promise.reject(new Error("caliconodestatuses is forbidden: missing RBAC")),
        waitForRoutes: () => Promise.reject(new Error("must not be asked")),
      },
    };

    await expect(reconcileCluster(deps)).rejects.toThrow(/forbidden/);
    expect(cluster.writes).toHaveLength(writes);
    expect(nextReason(cluster.state())).toBe("DisableNodeMesh");
  });

  it("confirms before a step that removes sessions even when started in the middle of a rollout (nothing is remembered)", async () => {
    // A controller restarted (or a new fleet leader) right before the mesh-off step: the sessions
    // it must confirm come from the cluster, so it waits exactly as the first one would have.
    const cluster = await clusterBeforeMeshOff();
    cluster.missingSessions = [[{ node: "node-00001", peer: "node-00007" }]];
    const restarted = await reconcileCluster(depsFor(cluster));
    expect(restarted).toMatchObject({
      kind: "AwaitingSessions",
      sessions: { missing: [{ node: "node-00001", peer: "node-00007" }] },
    });
    expect(nextReason(cluster.state())).toBe("DisableNodeMesh");
  });

  it("applies a step that only adds sessions without waiting for any", async () => {
    const cluster = createFakeCluster(makeCluster(makeNodes(12)));
    const deps: ReconcileDeps = {
      ...depsFor(cluster),
      sessions: {
        waitForSessions: () => Promise.reject(new Error("must not be asked")),
        waitForRoutes: () => Promise.reject(new Error("must not be asked")),
      },
    };
    const first = await reconcileCluster(deps);
    expect(first).toMatchObject({ kind: "StepApplied", step: { reason: "PrepareReflectors" } });
  });
});
