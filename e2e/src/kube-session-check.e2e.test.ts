import { CustomObjectsApi } from "@kubernetes/client-node";
import {
  connectCluster,
  createCalicoNodeStatusCheck,
  detectCalicoApi,
  type CalicoApi,
  type ClusterConnection,
  type SessionPair,
} from "@rrfleet/kube";
import { CLUSTER_ID_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "@rrfleet/topology-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBgpLab, type BgpLab } from "./bgp-lab/index.js";
import { createNodeFactory, startTestCluster, waitFor, type TestCluster } from "./harness/index.js";

interface StatusObject {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { node: string };
  status?: { bgp?: { peersV4?: { peerIP: string; state: string; type: string }[] } };
}

/**
 * The CalicoNodeStatus session check against real BGP: the BGP lab runs BIRD for every node and
 * its calico-node stand-in fills the status objects from `birdc show protocols`. One reflector
 * `rr` (cluster ID set) whose BGPPeer — created by the first test, so the check sees its
 * sessions come up — selects the clients labelled `rrfleet.io/peer-1` (c1, c2); c3 is not its
 * client. The mesh is on: c1–c3 mesh with each other but not with rr (a reflector leaves it).
 */
describe("createCalicoNodeStatusCheck against a real kube-apiserver and real BIRD speakers", () => {
  let cluster: TestCluster | undefined;
  let lab: BgpLab | undefined;
  let connection: ClusterConnection;
  let calico: CalicoApi;
  let custom: CustomObjectsApi;

  beforeAll(async () => {
    cluster = await startTestCluster({ name: "session-check" });
    connection = connectCluster({ kubeconfigPath: cluster.kubeconfigPath });
    calico = await detectCalicoApi(connection);
    custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    const factory = createNodeFactory(cluster.kubeConfig, {
      kubeletVersion: cluster.kubeApiserverVersion,
    });
    await factory.createNode({
      name: "rr",
      labels: { "rrfleet.io/reflector": "1" },
      annotations: { [CLUSTER_ID_ANNOTATION]: "10.255.0.1" },
    });
    await factory.createNode({ name: "c1", labels: { "rrfleet.io/peer-1": "" } });
    await factory.createNode({ name: "c2", labels: { "rrfleet.io/peer-1": "" } });
    await factory.createNode({ name: "c3" });
    lab = await startBgpLab({ kubeConfig: cluster.kubeConfig });
  });

  afterAll(async () => {
    await lab?.stop();
    await cluster?.stop();
  });

  const listStatuses = async (): Promise<StatusObject[]> => {
    const list = (await custom.listClusterCustomObject({
      group: calico.group,
      version: calico.version,
      plural: "caliconodestatuses",
    })) as { items: StatusObject[] };
    return list.items;
  };

  const makeCheck = (timeoutMs: number) =>
    createCalicoNodeStatusCheck(connection, calico, {
      timeoutMs,
      pollIntervalMs: 200,
      updatePeriodSeconds: 1,
      settleMs: 1_000,
    });

  it("resolves once new BGPPeer sessions are Established, having seen them come up, and deletes its object", async () => {
    await custom.createClusterCustomObject({
      group: calico.group,
      version: calico.version,
      plural: "bgppeers",
      body: {
        apiVersion: calico.apiVersion,
        kind: "BGPPeer",
        metadata: { name: "rrfleet-reflector-1", labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } },
        spec: {
          nodeSelector: "has(rrfleet.io/peer-1)",
          peerSelector: "rrfleet.io/reflector == '1'",
        },
      },
    });
    const states = new Map<string, Set<string>>();
    const watching = new AbortController();
    // Reads what calico-node (the lab's stand-in, from BIRD) reports while the check waits.
    const watcher = (async () => {
      while (!watching.signal.aborted) {
        for (const status of await listStatuses()) {
          for (const peer of status.status?.bgp?.peersV4 ?? []) {
            const seen = states.get(`${peer.type} ${peer.peerIP}`) ?? new Set<string>();
            seen.add(peer.state);
            states.set(`${peer.type} ${peer.peerIP}`, seen);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    const result = await makeCheck(60_000).waitForSessions([
      { node: "rr", peer: "c1", kinds: ["peer"] },
      { node: "rr", peer: "c2", kinds: ["peer"] },
    ]);
    watching.abort();
    await watcher;

    expect(result).toEqual({ established: 2, missing: [], unverifiable: [], unchecked: 0 });
    // BIRD's Node_ sessions of rr, each seen before it was Established (BIRD starts them Idle or
    // Active and both ends dial).
    expect([...states.keys()].sort()).toEqual(["NodePeer 10.1.0.2", "NodePeer 10.1.0.3"]);
    for (const seen of states.values())
      expect([...seen].some((state) => state !== "Established")).toBe(true);
    expect(await listStatuses()).toEqual([]);
  });

  it("reports a pair without a session as missing after the timeout, and cleans up", async () => {
    const pairs: SessionPair[] = [
      { node: "rr", peer: "c1", kinds: ["peer"] },
      { node: "rr", peer: "c3", kinds: ["peer"] },
    ];

    const result = await makeCheck(4_000).waitForSessions(pairs);

    expect(result).toMatchObject({ established: 1, missing: [pairs[1]], unverifiable: [] });
    expect(await listStatuses()).toEqual([]);
  });

  it("counts a mesh session only for a pair that asks for one: the protocol matters", async () => {
    const asPeer = await makeCheck(4_000).waitForSessions([
      { node: "c1", peer: "c3", kinds: ["peer"] },
    ]);
    expect(asPeer.missing).toHaveLength(1);
    const asMesh = await makeCheck(30_000).waitForSessions([
      { node: "c1", peer: "c3", kinds: ["mesh"] },
    ]);
    expect(asMesh).toMatchObject({ established: 1, missing: [] });
  });

  it("reads a node's real routes: names the block only the mesh brings it, and confirms once that block is exempt", async () => {
    // c1 keeps only its session to rr: c2's block comes to it over rr too (rr reflects it, c2
    // being rr's client), c3's block only over the mesh (c3 is not rr's client).
    const c3Block = lab?.calicoNode.blockOf("c3");
    const handover = { node: "c1", keeps: [{ peer: "rr", kinds: ["peer" as const] }] };

    const result = await makeCheck(6_000).waitForRoutes({ handovers: [handover], exempt: [] });

    expect(result).toEqual({
      confirmed: 0,
      missing: [{ node: "c1", destinations: [c3Block] }],
      unchecked: 0,
    });
    const exempted = await makeCheck(30_000).waitForRoutes({
      handovers: [handover],
      exempt: ["c3"],
    });
    expect(exempted).toEqual({ confirmed: 1, missing: [], unchecked: 0 });
    expect(await listStatuses()).toEqual([]);
  });

  it("deletes its status objects when aborted, rejecting with the reason", async () => {
    const controller = new AbortController();
    const reason = new Error("leadership lost");
    const waiting = makeCheck(60_000).waitForSessions(
      [{ node: "rr", peer: "c3", kinds: ["peer"] }],
      controller.signal,
    );
    const settled = waiting.catch((err: unknown) => err);

    const created = await waitFor(
      async () => {
        const names = (await listStatuses()).map((s) => s.metadata.name);
        return names.length > 0 ? names : undefined;
      },
      { description: "the check's CalicoNodeStatus", timeoutMs: 30_000 },
    );
    controller.abort(reason);

    expect(created).toEqual(["rrfleet-sessions-rr"]);
    expect(await settled).toBe(reason);
    expect(await listStatuses()).toEqual([]);
  });
});
