/**
 * `rrctl run` on real BGP: a 30-node cluster whose nodes are BIRD 1.6 speakers in network
 * namespaces, configured by a calico-node stand-in from the API server (see src/bgp-lab). The
 * controller uses its default session check (CalicoNodeStatus, filled from `birdc show
 * protocols`). Each scenario prints `bgp: <scenario>: gaps …` and asserts, from the kernels'
 * routing tables alone, that no route between Ready nodes went missing except a reflector's own
 * block while its own sessions restart; at rest, the lab's sessions and routes must equal the
 * model's.
 */
import { CustomObjectsApi } from "@kubernetes/client-node";
import { connectCluster, readClusterSnapshot } from "@rrfleet/kube";
import {
  findLostRoutes,
  parsePolicy,
  viewRoutes,
  viewTransition,
  type ClusterSnapshot,
  type Policy,
} from "@rrfleet/topology-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  expectCleanScenario,
  measureScenario,
  startBgpLab,
  type BgpLab,
  type ScenarioResult,
} from "./bgp-lab/index.js";
import {
  createNodeFactory,
  describeExit,
  startRrctlRun,
  startTestCluster,
  waitFor,
  waitForReady,
  type NodeFactory,
  type RrctlRunProcess,
  type TestCluster,
} from "./harness/index.js";

const MULTI = {
  topology: "multi",
  min: 3,
  reflectorsPerNode: 2,
  notReadyGraceSeconds: 15,
} as const;
/** Two reflectors per zone sharing the zone's cluster ID: the switch really changes cluster IDs. */
const ZONED = { ...MULTI, topology: "zoned", min: 6 } as const;
const NODES = Number(process.env["BGP_LAB_NODES"] ?? 30);

function policyOf(input: unknown): Policy {
  const result = parsePolicy(input);
  if (!result.ok) throw new Error(`bad test policy: ${JSON.stringify(result.issues)}`);
  return result.policy;
}

describe("rrctl run on real BGP (BIRD in network namespaces)", () => {
  let cluster: TestCluster;
  let nodes: NodeFactory;
  let lab: BgpLab;
  /** Set once started, for the clean-up (a failed start leaves them unset). */
  let started: { cluster?: TestCluster; lab?: BgpLab } = {};
  let run: RrctlRunProcess | undefined;

  const snapshot = (): Promise<ClusterSnapshot> =>
    readClusterSnapshot(
      connectCluster({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.name }),
    );
  const startController = async (policy: unknown): Promise<void> => {
    await run?.stop();
    run = await startRrctlRun({
      cluster,
      policy: policy as Record<string, unknown>,
      args: ["--resync-seconds", "5"],
    });
    await waitForReady(run);
  };
  const abortIf = () => (run === undefined ? undefined : describeExit(run));
  const reflectors = (state: ClusterSnapshot): string[] =>
    state.nodes.filter((n) => n.routeReflectorClusterId !== undefined).map((n) => n.name);
  const expectClean = (result: ScenarioResult): void => {
    expectCleanScenario(result, lab);
  };

  beforeAll(async () => {
    cluster = await startTestCluster({ name: "bgp" });
    started = { cluster };
    nodes = createNodeFactory(cluster.kubeConfig, { kubeletVersion: cluster.kubeApiserverVersion });
    await nodes.createNodes(NODES, { zones: ["zone-a", "zone-b", "zone-c"] });
    lab = await startBgpLab({ kubeConfig: cluster.kubeConfig });
    started = { cluster, lab };
    await lab.waitUntilQuiet();
  });

  afterAll(async () => {
    await run?.stop();
    await started.lab?.stop();
    await started.cluster?.stop();
  });

  it("sees the gaps the model predicts when the mesh goes off with no reflectors (the judge can fail)", async () => {
    const before = await snapshot();
    const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    const setMesh = (on: boolean) =>
      custom.createClusterCustomObject({
        group: "crd.projectcalico.org",
        version: "v1",
        plural: "bgpconfigurations",
        body: {
          apiVersion: "crd.projectcalico.org/v1",
          kind: "BGPConfiguration",
          metadata: { name: "default" },
          spec: { nodeToNodeMeshEnabled: on },
        },
      });
    const from = Date.now();
    await setMesh(false);
    const after = await snapshot();
    // The model: the transition loses (nearly) every route.
    const predicted = findLostRoutes(
      viewRoutes(before),
      viewTransition(viewRoutes(before), viewRoutes(after)),
    ).pairs;
    expect(predicted).toBe(NODES * (NODES - 1));
    // The kernels: every node loses every other node's block.
    const gaps = await waitFor(
      () => {
        const report = lab.judge.report(from);
        const pairs = new Set(report.gaps.map((g) => `${g.observer} ${g.owner}`));
        return Promise.resolve(pairs.size === NODES * (NODES - 1) ? report : undefined);
      },
      { description: "every route gone", timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(gaps.longestMs).toBeGreaterThan(0);
    await custom.deleteClusterCustomObject({
      group: "crd.projectcalico.org",
      version: "v1",
      plural: "bgpconfigurations",
      name: "default",
    });
    await lab.waitUntilQuiet();
  });

  it("builds reflectors on a fresh cluster and turns the mesh off without losing a route", async () => {
    const result = await measureScenario({
      name: "fresh cluster: mesh on → reflectors, mesh off",
      cluster,
      lab,
      policy: policyOf(MULTI),
      act: () => startController(MULTI),
      abortIf,
    });
    expectClean(result);
    expect(result.snapshot.bgpConfiguration.nodeToNodeMeshEnabled).toBe(false);
    expect(reflectors(result.snapshot)).toHaveLength(MULTI.min);
    // The mesh went off only once CalicoNodeStatus (filled from BIRD) showed the sessions the
    // step kept Established; the checks' status objects are gone again.
    const steps = ((await run?.logLines()) ?? []).filter((line) =>
      String(line["msg"]).startsWith("applied step"),
    );
    const meshOff = steps.find((line) => line["reason"] === "DisableNodeMesh");
    expect(meshOff).toMatchObject({ sessionsMissing: 0 });
    expect(Number(meshOff?.["sessionsEstablished"])).toBeGreaterThan(0);
    // ... and once the clients read (from `birdc show route`) had every mesh route over their
    // reflector sessions too.
    expect(Number(meshOff?.["routesConfirmedNodes"])).toBeGreaterThan(0);
    expect(meshOff?.["routesUnverifiable"]).toBeUndefined();
    const statuses = (await cluster.kubeConfig
      .makeApiClient(CustomObjectsApi)
      .listClusterCustomObject({
        group: "crd.projectcalico.org",
        version: "v1",
        plural: "caliconodestatuses",
      })) as { items: unknown[] };
    expect(statuses.items).toEqual([]);
  });

  it("follows node churn without losing a route", async () => {
    const result = await measureScenario({
      name: "node churn",
      cluster,
      lab,
      policy: policyOf(MULTI),
      until: (state) => state.nodes.filter((n) => n.name.startsWith("joiner")).length === 4,
      act: async () => {
        await nodes.createNodes(4, { prefix: "joiner", zones: ["zone-a", "zone-b", "zone-c"] });
        const state = await snapshot();
        const clients = state.nodes
          .filter((n) => n.routeReflectorClusterId === undefined)
          .slice(-6, -3);
        for (const client of clients) {
          await lab.calicoNode.failNode(client.name);
          await nodes.deleteNode(client.name);
        }
      },
      abortIf,
    });
    expectClean(result);
  });

  it("replaces a deleted reflector without losing a route", async () => {
    const result = await measureScenario({
      name: "a reflector deleted",
      cluster,
      lab,
      policy: policyOf(MULTI),
      act: async () => {
        const [victim] = reflectors(await snapshot());
        if (victim === undefined) throw new Error("no reflector");
        await lab.calicoNode.failNode(victim);
        await nodes.deleteNode(victim);
      },
      abortIf,
    });
    expectClean(result);
    expect(reflectors(result.snapshot)).toHaveLength(MULTI.min);
  });

  it("replaces a reflector NotReady past its grace without losing a route", async () => {
    let victim = "";
    const result = await measureScenario({
      name: "a reflector NotReady past its grace",
      cluster,
      lab,
      policy: policyOf(MULTI),
      act: async () => {
        victim = reflectors(await snapshot())[0] ?? "";
        await lab.calicoNode.failNode(victim);
        await nodes.setReady(victim, false);
      },
      until: (state) => !reflectors(state).includes(victim),
      abortIf,
    });
    expectClean(result);
    expect(reflectors(result.snapshot)).not.toContain(victim);
    await nodes.deleteNode(victim);
  });

  it("switches a live cluster from multi to zoned without losing a route", async () => {
    const result = await measureScenario({
      name: "a switch of topology (multi → zoned)",
      cluster,
      lab,
      policy: policyOf(ZONED),
      act: () => startController(ZONED),
      abortIf,
    });
    expectClean(result);
    const ids = new Set(
      result.snapshot.nodes.map((n) => n.routeReflectorClusterId).filter((id) => id !== undefined),
    );
    expect(ids.size).toBe(3); // one cluster ID per zone
  });

  it("turns the mesh back on when every reflector crashes, without losing a route", async () => {
    let victims: string[] = [];
    const result = await measureScenario({
      name: "the fail-safe: every reflector crashes → mesh back on",
      cluster,
      lab,
      policy: policyOf(ZONED),
      act: async () => {
        victims = reflectors(await snapshot());
        for (const victim of victims) {
          await lab.calicoNode.failNode(victim);
          await nodes.setReady(victim, false);
        }
      },
      until: (state) => reflectors(state).every((rr) => !victims.includes(rr)),
      abortIf,
    });
    expectClean(result);
    for (const victim of victims) await nodes.deleteNode(victim);
  });
});
