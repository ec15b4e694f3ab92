/**
 * Restarts in the middle of rollouts, on real BGP (see bgp-lab.e2e.test.ts for the lab): a
 * calico-node (BIRD) restart, `rrctl run` SIGKILLed mid-plan and started again, and a fleet-mode
 * leader SIGKILLed mid-plan with its standby taking over. What must be confirmed before a step is
 * derived from the cluster, never remembered, so a restarted controller waits exactly as the
 * first would have: every scenario must show no route gap but reflectors' own blocks.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectCluster, readClusterSnapshot } from "@rrfleet/kube";
import { parsePolicy, type ClusterSnapshot, type Policy } from "@rrfleet/topology-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectCleanScenario, measureScenario, startBgpLab, type BgpLab } from "./bgp-lab/index.js";
import {
  createNodeFactory,
  describeExit,
  startFleetService,
  startRrctlRun,
  startTestCluster,
  startTestRedis,
  waitFor,
  waitForReady,
  writeFleetFile,
  type FleetServiceProcess,
  type RrctlRunProcess,
  type TestCluster,
  type TestRedis,
} from "./harness/index.js";

const NODES = Number(process.env["BGP_LAB_NODES"] ?? 30);
const THREE = {
  topology: "multi",
  min: 3,
  reflectorsPerNode: 2,
  notReadyGraceSeconds: 60,
} as const;
/** One more reflector: 4 is what the default path budget (maxPathsPerPrefix 32) allows multi. */
const FOUR = { ...THREE, min: 4 } as const;

function policyOf(input: unknown): Policy {
  const result = parsePolicy(input);
  if (!result.ok) throw new Error(`bad test policy: ${JSON.stringify(result.issues)}`);
  return result.policy;
}

/** A fresh cluster with the mesh on, its lab routing every node. */
async function startFreshLab(name: string): Promise<{ cluster: TestCluster; lab: BgpLab }> {
  const cluster = await startTestCluster({ name });
  try {
    await createNodeFactory(cluster.kubeConfig, {
      kubeletVersion: cluster.kubeApiserverVersion,
    }).createNodes(NODES, { zones: ["zone-a", "zone-b", "zone-c"] });
    const lab = await startBgpLab({ kubeConfig: cluster.kubeConfig });
    await lab.waitUntilQuiet();
    return { cluster, lab };
  } catch (err: unknown) {
    await cluster.stop();
    throw err;
  }
}

const snapshotOf = (cluster: TestCluster): Promise<ClusterSnapshot> =>
  readClusterSnapshot(
    connectCluster({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.name }),
  );

/** Waits until the API server shows `done` (a step of a plan applied), for killing mid-plan. */
async function waitForProgress(
  cluster: TestCluster,
  done: (state: ClusterSnapshot) => boolean,
  description: string,
) {
  await waitFor(async () => (done(await snapshotOf(cluster)) ? true : undefined), {
    description,
    timeoutMs: 120_000,
    intervalMs: 100,
  });
}

describe("rrctl run restarted mid-rollout on real BGP", () => {
  let started: { cluster?: TestCluster; lab?: BgpLab } = {};
  let run: RrctlRunProcess | undefined;

  beforeAll(async () => {
    started = await startFreshLab("restarts");
  });

  afterAll(async () => {
    await run?.stop();
    await started.lab?.stop();
    await started.cluster?.stop();
  });

  it("loses no route when calico-node restarts (BIRD killed, started with -R) in the middle of a rollout", async () => {
    const { cluster, lab } = started as { cluster: TestCluster; lab: BgpLab };
    const result = await measureScenario({
      name: "a calico-node restart in the middle of a rollout",
      cluster,
      lab,
      policy: policyOf(THREE),
      act: async () => {
        run = await startRrctlRun({ cluster, policy: THREE, args: ["--resync-seconds", "5"] });
        await waitForReady(run);
        // After the first step: reflectors labelled, clients pre-peered (Idle duplicates of their
        // mesh sessions), nothing promoted yet — the state where BIRD's -R start is most delicate.
        await waitForProgress(
          cluster,
          (state) => state.nodes.some((n) => n.labels["rrfleet.io/reflector"] !== undefined),
          "the first step applied",
        );
        const state = await snapshotOf(cluster);
        const reflector = state.nodes.find((n) => n.labels["rrfleet.io/reflector"] !== undefined);
        const clients = state.nodes
          .filter((n) => n.labels["rrfleet.io/reflector"] === undefined)
          .slice(0, 3);
        for (const node of [...(reflector === undefined ? [] : [reflector]), ...clients])
          await lab.calicoNode.restartNode(node.name);
      },
      abortIf: () => (run === undefined ? undefined : describeExit(run)),
    });
    expectCleanScenario(result, lab);
  });

  it("loses no route when rrctl run is SIGKILLed in the middle of a plan and started again", async () => {
    const { cluster, lab } = started as { cluster: TestCluster; lab: BgpLab };
    const result = await measureScenario({
      name: "rrctl run SIGKILLed mid-plan and restarted",
      cluster,
      lab,
      policy: policyOf(FOUR),
      act: async () => {
        await run?.stop();
        // One more reflector: its label, its BGPPeer, clients peered with it, then its promotion.
        run = await startRrctlRun({
          cluster,
          policy: FOUR,
          args: ["--resync-seconds", "5"],
          logName: "rrctl-run-2.log",
        });
        await waitForReady(run);
        await waitForProgress(
          cluster,
          (state) =>
            state.nodes.filter((n) => n.labels["rrfleet.io/reflector"] !== undefined).length > 3,
          "the new plan's first step applied",
        );
        process.kill(run.pid, "SIGKILL");
        await run.exited;
        run = await startRrctlRun({
          cluster,
          policy: FOUR,
          args: ["--resync-seconds", "5"],
          logName: "rrctl-run-3.log",
        });
        await waitForReady(run);
      },
      abortIf: () => (run === undefined ? undefined : describeExit(run)),
    });
    expectCleanScenario(result, lab);
    expect(
      result.snapshot.nodes.filter((n) => n.routeReflectorClusterId !== undefined),
    ).toHaveLength(4);
  });
});

describe("fleet mode: the leader SIGKILLed mid-plan on real BGP", () => {
  let started: { cluster?: TestCluster; lab?: BgpLab } = {};
  let redis: TestRedis | undefined;
  let dir = "";
  const services: FleetServiceProcess[] = [];

  beforeAll(async () => {
    started = await startFreshLab("fleet");
    dir = await mkdtemp(join(tmpdir(), "rrfleet-bgp-fleet-"));
    redis = await startTestRedis(dir);
  });

  afterAll(async () => {
    for (const service of services) await service.stop();
    await redis?.stop();
    await started.lab?.stop();
    await started.cluster?.stop();
    if (dir !== "") await rm(dir, { recursive: true, force: true });
  });

  it("loses no route when the leader dies mid-plan and the standby takes over", async () => {
    const { cluster, lab } = started as { cluster: TestCluster; lab: BgpLab };
    const url = redis?.url ?? "";
    const fleetFile = await writeFleetFile(
      join(dir, "fleet.yaml"),
      [{ name: "fleet", kubeconfigPath: cluster.kubeconfigPath, context: cluster.name }],
      THREE,
    );
    const env = {
      REDIS_URL: url,
      FLEET_FILE: fleetFile,
      HEARTBEAT_SECONDS: "1",
      LEASE_SECONDS: "4",
      RENEW_DEADLINE_SECONDS: "3",
      RETRY_PERIOD_SECONDS: "0.5",
      RESYNC_SECONDS: "5",
      LOG_LEVEL: "info",
    };
    const start = async (kind: "watcher" | "applier", id: string) => {
      const service = await startFleetService({ kind, id, dir, env });
      services.push(service);
      return service;
    };
    let leader: FleetServiceProcess | undefined;
    const result = await measureScenario({
      name: "fleet mode: the leader SIGKILLed mid-plan",
      cluster,
      lab,
      policy: policyOf(THREE),
      act: async () => {
        await start("watcher", "watcher-1");
        const appliers = [await start("applier", "applier-1"), await start("applier", "applier-2")];
        await waitForProgress(
          cluster,
          (state) => state.nodes.some((n) => n.labels["rrfleet.io/reflector"] !== undefined),
          "the leader's first step applied",
        );
        for (const applier of appliers) {
          for (const [name, value] of await applier.metrics())
            if (name.startsWith("rrfleet_leader{") && value === 1) leader = applier;
        }
        if (leader === undefined) throw new Error("no applier says it leads");
        leader.signal("SIGKILL");
        await leader.exited;
      },
      abortIf: () =>
        services
          .map((s) => (s === leader ? undefined : describeExit(s)))
          .find((m) => m !== undefined),
    });
    expectCleanScenario(result, lab);
  });
});
