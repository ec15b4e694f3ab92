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
import {
  CALICO_IPV4_ANNOTATION,
  createNodeFactory,
  startFakeCalicoNode,
  startTestCluster,
  waitFor,
  type FakeCalicoNode,
  type TestCluster,
} from "./harness/index.js";

interface StatusObject {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { node: string };
  status?: { bgp?: { peersV4?: { peerIP: string; state: string }[] } };
}

/**
 * One reflector `rr` (cluster ID set) whose BGPPeer selects the clients labelled
 * `rrfleet.io/peer-1` (c1, c2); c3 is not its client. The mesh is on, so c1–c3 mesh with each other
 * but not with rr (a reflector leaves the mesh): the model has rr–c1 and rr–c2, never rr–c3.
 */
describe("createCalicoNodeStatusCheck against a real kube-apiserver and a fake calico-node", () => {
  let cluster: TestCluster;
  let connection: ClusterConnection;
  let calico: CalicoApi;
  let custom: CustomObjectsApi;
  let reporter: FakeCalicoNode;
  const address = new Map<string, string>();

  beforeAll(async () => {
    cluster = await startTestCluster({ name: "session-check" });
    connection = connectCluster({ kubeconfigPath: cluster.kubeconfigPath });
    calico = await detectCalicoApi(connection);
    custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    const factory = createNodeFactory(cluster.kubeConfig, {
      kubeletVersion: cluster.kubeApiserverVersion,
    });
    const nodes = [
      await factory.createNode({
        name: "rr",
        labels: { "rrfleet.io/reflector": "1" },
        annotations: { [CLUSTER_ID_ANNOTATION]: "10.255.0.1" },
      }),
      await factory.createNode({ name: "c1", labels: { "rrfleet.io/peer-1": "" } }),
      await factory.createNode({ name: "c2", labels: { "rrfleet.io/peer-1": "" } }),
      await factory.createNode({ name: "c3" }),
    ];
    for (const node of nodes) {
      const ip = node.metadata?.annotations?.[CALICO_IPV4_ANNOTATION]?.split("/")[0];
      if (node.metadata?.name === undefined || ip === undefined)
        throw new Error("node without address");
      address.set(node.metadata.name, ip);
    }
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
    reporter = startFakeCalicoNode(cluster.kubeConfig, {
      calico,
      intervalMs: 200,
      establishAfterMs: 1_500,
    });
  });

  afterAll(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    await reporter?.stop();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
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
    });

  it("resolves once the new sessions are Established, having seen them come up, and deletes its object", async () => {
    const states = new Map<string, Set<string>>();
    const watching = new AbortController();
    // Reads what the fake calico-node reports while the check waits.
    const watcher = (async () => {
      while (!watching.signal.aborted) {
        for (const status of await listStatuses()) {
          for (const peer of status.status?.bgp?.peersV4 ?? []) {
            const seen = states.get(peer.peerIP) ?? new Set<string>();
            seen.add(peer.state);
            states.set(peer.peerIP, seen);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    const result = await makeCheck(30_000).waitForSessions([
      { node: "rr", peer: "c1" },
      { node: "rr", peer: "c2" },
    ]);
    watching.abort();
    await watcher;

    expect(result).toEqual({ established: 2, missing: [], unverifiable: [] });
    // Exactly the model's sessions of rr, each seen still connecting while the check waited. This
    // sampler may miss "Established": the check can see it, resolve and delete the object between
    // two samples (`result.established` above is the check's own count of Established peers).
    expect([...states.keys()].sort()).toEqual([address.get("c1"), address.get("c2")].sort());
    for (const seen of states.values()) {
      expect(seen.has("Connect")).toBe(true);
      expect([...seen].filter((state) => state !== "Connect" && state !== "Established")).toEqual(
        [],
      );
    }
    expect(await listStatuses()).toEqual([]);
  });

  it("reports a pair the session model does not have as missing after the timeout, and cleans up", async () => {
    const pairs: SessionPair[] = [
      { node: "rr", peer: "c1" },
      { node: "rr", peer: "c3" },
    ];

    const result = await makeCheck(4_000).waitForSessions(pairs);

    expect(result).toEqual({
      established: 1,
      missing: [{ node: "rr", peer: "c3" }],
      unverifiable: [],
    });
    expect(await listStatuses()).toEqual([]);
    expect(reporter.reports()).toBeGreaterThan(0);
  });

  it("deletes its status objects when aborted, rejecting with the reason", async () => {
    const controller = new AbortController();
    const reason = new Error("leadership lost");
    const waiting = makeCheck(60_000).waitForSessions(
      [{ node: "rr", peer: "c3" }],
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
