/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node's RBAC
   models are plain data to its serializer; the test writes them as object literals. */
/**
 * The fleet applier's RBAC check on a real API server: before it manages a member cluster it
 * asks SelfSubjectAccessReviews for every permission it will use (as `rrctl run` does at start),
 * and refuses the cluster — status `Failing`/`Forbidden` naming what is missing, nothing
 * written — when one is missing.
 */
import { trace } from "@opentelemetry/api";
import { RbacAuthorizationV1Api } from "@kubernetes/client-node";
import {
  createApplierMetrics,
  createFleetApplierMetrics,
  openKubeCluster,
  runApplierService,
  type LeaderCluster,
} from "@rrfleet/applier";
import { createMemoryFleetState, systemClock, type FleetState } from "@rrfleet/fleet-state";
import { connectCluster, readClusterSnapshot } from "@rrfleet/kube";
import { DEFAULT_POLICY } from "@rrfleet/topology-core";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createNodeFactory,
  grantShippedClusterRole,
  startTestCluster,
  userContextName,
  waitFor,
  type TestCluster,
} from "./harness/index.js";

const CALICO_GROUP = "crd.projectcalico.org";
/** Bound to the shipped ClusterRole minus `delete bgppeers`. */
const LIMITED = { name: "no-peer-delete", token: "no-peer-delete-token-7e1f" } as const;
/** Bound to the shipped ClusterRole. */
const APPLIER = { name: "applier", token: "applier-token-3c9a" } as const;
const SETTINGS = {
  sessionCheck: "delay",
  switchoverDelayMs: 100,
  sessionTimeoutMs: 10_000,
  dryRun: false,
} as const;
const silent = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silent;
  },
};

describe("the fleet applier's permission check on a member cluster", () => {
  let cluster: TestCluster;

  const leaderCluster = (user: string): LeaderCluster => ({
    name: "member",
    fingerprint: user,
    policy: DEFAULT_POLICY,
    connect: () =>
      connectCluster({
        kubeconfigPath: cluster.kubeconfigPath,
        context: userContextName(cluster.name, user),
      }),
  });

  beforeAll(async () => {
    cluster = await startTestCluster({ name: "member", users: [LIMITED, APPLIER] });
    await grantShippedClusterRole(cluster.kubeConfig, "clusterrole.yaml", {
      kind: "User",
      name: APPLIER.name,
    });
    const rbac = cluster.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({
      body: {
        metadata: { name: "rrfleet-without-peer-delete" },
        rules: [
          { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch", "patch"] },
          {
            apiGroups: [CALICO_GROUP],
            resources: ["bgppeers"],
            verbs: ["get", "list", "watch", "create", "update"],
          },
          {
            apiGroups: [CALICO_GROUP],
            resources: ["bgpconfigurations", "clusterinformations", "caliconodestatuses"],
            verbs: ["*"],
          },
        ],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: "rrfleet-without-peer-delete" },
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "ClusterRole",
          name: "rrfleet-without-peer-delete",
        },
        subjects: [{ kind: "User", name: LIMITED.name, apiGroup: "rbac.authorization.k8s.io" }],
      },
    });
    await createNodeFactory(cluster.kubeConfig, {
      kubeletVersion: cluster.kubeApiserverVersion,
    }).createNodes(12, { zones: ["zone-a", "zone-b"] });
  });

  afterAll(async () => {
    await cluster.stop();
  });

  it("refuses to open a member cluster whose credentials lack a permission, naming it", async () => {
    const err = await openKubeCluster(leaderCluster(LIMITED.name), SETTINGS).catch(
      (e: unknown) => e,
    );

    expect(err).toMatchObject({ code: "Forbidden" });
    expect((err as Error).message).toMatch(/delete bgppeers\.crd\.projectcalico\.org/);
  });

  it("opens one whose credentials hold the shipped ClusterRole", async () => {
    await expect(openKubeCluster(leaderCluster(APPLIER.name), SETTINGS)).resolves.toBeDefined();
  });

  it("leads without managing it: its status says why, and nothing is written", async () => {
    const state: FleetState = createMemoryFleetState({
      clock: systemClock,
      dirtyTakeTimeoutMs: 200,
    });
    const admin = connectCluster({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.name });
    // What its watcher would publish (a watcher only reads).
    await state.publishSnapshot("member", await readClusterSnapshot(admin), {
      watcher: "w1",
      observedAt: Date.now(),
    });
    const registry = new Registry();
    const member = leaderCluster(LIMITED.name);
    const stop = new AbortController();
    const running = runApplierService(
      {
        state,
        lease: state,
        candidateId: "applier-e2e",
        timing: { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
        clusters: () => [member],
        openCluster: (c) => openKubeCluster(c, SETTINGS),
        clock: systemClock,
        logger: silent,
        metrics: createApplierMetrics(registry),
        fleetMetrics: createFleetApplierMetrics(registry),
        tracer: trace.getTracer("e2e"),
        settings: {
          heartbeatMs: 1_000,
          clusterBucket: { ratePerSecond: 100, burst: 100 },
          globalBucket: { ratePerSecond: 100, burst: 100 },
          maxParallelClusters: 1,
          resyncMs: 60_000,
          dryRun: false,
        },
      },
      stop.signal,
    );
    try {
      const status = await waitFor(
        async () => {
          const current = (await state.readStatuses())["member"];
          return current?.phase === "Failing" ? current : undefined;
        },
        { description: "member's status Failing", timeoutMs: 60_000, intervalMs: 200 },
      );

      expect(status.reason).toBe("Forbidden");
      expect(status.message).toMatch(/delete bgppeers/);
      const snapshot = await readClusterSnapshot(admin);
      expect(
        snapshot.nodes.filter((n) =>
          Object.keys(n.labels).some((l) => l.startsWith("rrfleet.io/")),
        ),
      ).toEqual([]);
      expect(snapshot.bgpPeers.filter((p) => p.name.startsWith("rrfleet-"))).toEqual([]);
    } finally {
      stop.abort();
      await running;
    }
  });
});
