/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   client-node's model classes are plain data (the library itself fills them from JSON), so fakes
   build them as object literals. */
import { ApiException, type V1Node, type V1NodeList } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { KubeError } from "./kube-error.js";
import { readClusterSnapshot, type SnapshotClients } from "./read-cluster-snapshot.js";

/** A Node as client-node returns it: deserialized, with `Date` timestamps. */
function makeV1Node(name: string, ready = true): V1Node {
  return {
    metadata: {
      name,
      labels: { "topology.kubernetes.io/zone": "a" },
      creationTimestamp: new Date("2026-11-01T00:00:00Z"),
      resourceVersion: "7",
    },
    spec: {},
    status: {
      conditions: [
        {
          type: "Ready",
          status: ready ? "True" : "False",
          lastTransitionTime: new Date("2026-11-27T23:50:00Z"),
        },
      ],
    },
  };
}

interface FakeCluster {
  readonly nodes: readonly V1Node[];
  readonly served?: readonly string[];
  readonly custom?: Readonly<Record<string, readonly unknown[]>>;
  readonly listNodeError?: Error;
}

/** Fake clients serving pages of `pageSize`; records every request. */
function makeClients(cluster: FakeCluster) {
  const requests: string[] = [];
  const page = <T>(items: readonly T[], limit: number, token: string | undefined) => {
    const start = token === undefined ? 0 : Number(token);
    const end = start + limit;
    return { items: items.slice(start, end), next: end < items.length ? String(end) : undefined };
  };
  const clients: SnapshotClients = {
    core: {
      listNode: (param) => {
        requests.push(`list nodes limit=${param?.limit} continue=${param?._continue ?? ""}`);
        if (cluster.listNodeError !== undefined) return Promise.reject(cluster.listNodeError);
        const { items, next } = page(cluster.nodes, param?.limit ?? 500, param?._continue);
        const list: V1NodeList = { items, metadata: next === undefined ? {} : { _continue: next } };
        return Promise.resolve(list);
      },
    },
    apis: {
      getAPIVersions: () =>
        Promise.resolve({
          groups: (cluster.served ?? ["crd.projectcalico.org/v1"]).map((groupVersion) => ({
            name: groupVersion.split("/")[0] ?? "",
            versions: [{ groupVersion, version: groupVersion.split("/")[1] ?? "" }],
          })),
        }),
    },
    custom: {
      getClusterCustomObject: (param) => {
        requests.push(`get ${param.plural}.${param.group}/${param.version} ${param.name}`);
        return Promise.resolve({ spec: { calicoVersion: "v3.32.1" } });
      },
      listClusterCustomObject: (param) => {
        requests.push(
          `list ${param.plural}.${param.group}/${param.version} continue=${param._continue ?? ""}`,
        );
        const all = cluster.custom?.[param.plural] ?? [];
        const { items, next } = page(all, param.limit ?? 500, param._continue);
        return Promise.resolve({ items, metadata: next === undefined ? {} : { continue: next } });
      },
    },
  };
  return { clients, requests };
}

function makePeer(name: string, apiVersion = "crd.projectcalico.org/v1") {
  return {
    apiVersion,
    kind: "BGPPeer",
    metadata: { name, labels: { team: "net" }, resourceVersion: "3" },
    spec: { nodeSelector: "all()", peerIP: "192.0.2.1", asNumber: 64512 },
  };
}

describe("readClusterSnapshot", () => {
  it("lists nodes page by page and projects them with wire-format timestamps", async () => {
    const nodes = Array.from({ length: 5 }, (_, i) => makeV1Node(`n${i}`, i !== 3));
    const { clients, requests } = makeClients({ nodes });
    const snapshot = await readClusterSnapshot(clients, { pageSize: 2 });
    expect(requests.filter((r) => r.startsWith("list nodes"))).toEqual([
      "list nodes limit=2 continue=",
      "list nodes limit=2 continue=2",
      "list nodes limit=2 continue=4",
    ]);
    expect(snapshot.nodes.map((n) => n.name)).toEqual(["n0", "n1", "n2", "n3", "n4"]);
    expect(snapshot.nodes[3]).toEqual({
      name: "n3",
      labels: { "topology.kubernetes.io/zone": "a" },
      ready: false,
      unschedulable: false,
      taints: [],
      readyTransitionTime: "2026-11-27T23:50:00Z",
      creationTimestamp: "2026-11-01T00:00:00Z",
      resourceVersion: "7",
    });
  });

  it("reads BGPPeers and BGPConfiguration default in the detected API group", async () => {
    const { clients, requests } = makeClients({
      nodes: [makeV1Node("n0")],
      served: ["projectcalico.org/v3"],
      custom: {
        bgppeers: [makePeer("p1", "projectcalico.org/v3"), makePeer("p2", "projectcalico.org/v3")],
        bgpconfigurations: [
          { metadata: { name: "node.n0" }, spec: { logSeverityScreen: "Info" } },
          {
            metadata: { name: "default", resourceVersion: "9" },
            spec: { nodeToNodeMeshEnabled: false, asNumber: 64512 },
          },
        ],
      },
    });
    const snapshot = await readClusterSnapshot(clients, { pageSize: 1 });
    expect(snapshot.calicoApiVersion).toBe("projectcalico.org/v3");
    expect(snapshot.bgpPeers.map((p) => p.name)).toEqual(["p1", "p2"]);
    expect(snapshot.bgpPeers[0]).toEqual({
      name: "p1",
      labels: { team: "net" },
      nodeSelector: "all()",
      peerIP: "192.0.2.1",
      asNumber: 64512,
      resourceVersion: "3",
    });
    expect(snapshot.bgpConfiguration).toEqual({
      exists: true,
      nodeToNodeMeshEnabled: false,
      specFields: ["asNumber", "nodeToNodeMeshEnabled"],
      resourceVersion: "9",
    });
    expect(requests).toContain("list bgppeers.projectcalico.org/v3 continue=1");
    expect(requests).toContain("get clusterinformations.projectcalico.org/v3 default");
  });

  it("uses Calico's defaults (mesh on) when there is no BGPConfiguration default", async () => {
    const { clients } = makeClients({ nodes: [] });
    const snapshot = await readClusterSnapshot(clients);
    expect(snapshot).toEqual({
      nodes: [],
      bgpPeers: [],
      bgpConfiguration: { exists: false, nodeToNodeMeshEnabled: true, specFields: [] },
      calicoApiVersion: "crd.projectcalico.org/v1",
    });
  });

  const invalid = [
    {
      name: "a Node with a bad taint effect",
      cluster: {
        nodes: [
          Object.assign(makeV1Node("n7"), {
            spec: { taints: [{ key: "k", effect: "Sometimes" }] },
          }),
        ],
      },
      wantMessage:
        'Node "n7" cannot be read: spec.taints[0].effect: must be NoSchedule, PreferNoSchedule or NoExecute',
    },
    {
      name: "a BGPPeer without a name",
      cluster: { nodes: [], custom: { bgppeers: [{ ...makePeer("x"), metadata: {} }] } },
      wantMessage:
        "a BGPPeer without a name cannot be read: metadata.name: is required and must be a string",
    },
    {
      name: "a BGPConfiguration with a non-boolean mesh switch",
      cluster: {
        nodes: [],
        custom: {
          bgpconfigurations: [
            { metadata: { name: "default" }, spec: { nodeToNodeMeshEnabled: "no" } },
          ],
        },
      },
      wantMessage:
        'BGPConfiguration "default" cannot be read: spec.nodeToNodeMeshEnabled: must be true or false',
    },
  ];
  it.each(invalid)("rejects $name, naming the object and the field", async (row) => {
    const { clients } = makeClients(row.cluster);
    const err = await readClusterSnapshot(clients).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect(err).toMatchObject({ code: "Invalid", message: row.wantMessage });
  });

  it("maps a forbidden node list to a KubeError naming the verb and resource", async () => {
    const { clients } = makeClients({
      nodes: [],
      listNodeError: new ApiException(403, "Unknown API Status Code!", "{}", {}),
    });
    await expect(readClusterSnapshot(clients)).rejects.toMatchObject({
      code: "Forbidden",
      message: expect.stringContaining('rrfleet needs "list" on "nodes"') as unknown,
    });
  });

  it("says Calico CRDs are not found when neither API group is served", async () => {
    const { clients } = makeClients({ nodes: [], served: ["apps/v1"] });
    await expect(readClusterSnapshot(clients)).rejects.toMatchObject({
      code: "NotFound",
      message: expect.stringMatching(/^Calico CRDs not found/) as unknown,
    });
  });

  it("prefers crd.projectcalico.org/v1 when both groups are served, as Calico does", async () => {
    const { clients } = makeClients({
      nodes: [],
      served: ["projectcalico.org/v3", "crd.projectcalico.org/v1"],
    });
    expect((await readClusterSnapshot(clients)).calicoApiVersion).toBe("crd.projectcalico.org/v1");
  });
});
