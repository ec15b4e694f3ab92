import { describe, expect, it } from "vitest";
import { FENCING_EPOCH_ANNOTATION } from "../model/names.js";
import {
  projectBgpConfiguration,
  projectBgpConfigurationList,
  projectBgpPeer,
  projectBgpPeerList,
  projectNode,
  projectNodeList,
  readFencingEpoch,
} from "./project-objects.js";

const node = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: {
    name,
    labels: { zone: "a" },
    annotations: { "projectcalico.org/RouteReflectorClusterID": "244.0.0.1" },
    creationTimestamp: "2026-01-01T00:00:00Z",
    resourceVersion: "7",
  },
  spec: {
    unschedulable: true,
    taints: [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute" }],
  },
  status: {
    conditions: [
      { type: "MemoryPressure", status: "False" },
      { type: "Ready", status: "False", lastTransitionTime: "2026-05-01T00:00:00Z" },
    ],
  },
  ...extra,
});

describe("projectNodeList", () => {
  it("keeps exactly what the planner reads", () => {
    const result = projectNodeList({ kind: "List", items: [node("n1")] });
    expect(result).toEqual({
      ok: true,
      value: [
        {
          name: "n1",
          labels: { zone: "a" },
          ready: false,
          readyTransitionTime: "2026-05-01T00:00:00Z",
          unschedulable: true,
          taints: [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute" }],
          routeReflectorClusterId: "244.0.0.1",
          creationTimestamp: "2026-01-01T00:00:00Z",
          resourceVersion: "7",
        },
      ],
    });
  });

  it("accepts a NodeList whose items carry no kind (raw API output)", () => {
    const { kind: _kind, apiVersion: _apiVersion, ...bare } = node("n1");
    expect(projectNodeList({ kind: "NodeList", items: [bare] }).ok).toBe(true);
  });

  const bad = [
    { name: "a list of the wrong kind", input: { kind: "PodList", items: [] }, wantPath: "kind" },
    {
      name: "an item of the wrong kind in a List",
      input: { kind: "List", items: [{ ...node("n1"), kind: "Pod" }] },
      wantPath: "items[0].kind",
    },
    {
      name: "an item without a name",
      input: { kind: "List", items: [{ kind: "Node", metadata: {} }] },
      wantPath: "items[0].metadata.name",
    },
    {
      name: "a taint with an unknown effect",
      input: {
        kind: "List",
        items: [node("n1", { spec: { taints: [{ key: "k", effect: "Sometimes" }] } })],
      },
      wantPath: "items[0].spec.taints[0].effect",
    },
    {
      name: "two nodes with one name",
      input: { kind: "List", items: [node("n1"), node("n1")] },
      wantPath: "items[1].metadata.name",
    },
    { name: "items that are not a list", input: { kind: "List", items: {} }, wantPath: "items" },
  ];
  for (const row of bad) {
    it(`names the field for ${row.name}`, () => {
      const result = projectNodeList(row.input);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.issues.map((i) => i.path)).toContain(row.wantPath);
    });
  }
});

describe("projectBgpPeerList", () => {
  it("reports the API version BGPPeers are served as", () => {
    const result = projectBgpPeerList({
      kind: "List",
      items: [
        {
          apiVersion: "projectcalico.org/v3",
          kind: "BGPPeer",
          metadata: { name: "tor" },
          spec: { peerIP: "192.0.2.1", asNumber: 65000 },
        },
      ],
    });
    expect(result).toEqual({
      ok: true,
      value: {
        apiVersion: "projectcalico.org/v3",
        peers: [{ name: "tor", labels: {}, peerIP: "192.0.2.1", asNumber: 65000 }],
      },
    });
  });
});

describe("projectBgpConfigurationList", () => {
  it("reads the mesh switch of `default` and which spec fields it holds", () => {
    const result = projectBgpConfigurationList({
      kind: "BGPConfigurationList",
      items: [
        {
          apiVersion: "crd.projectcalico.org/v1",
          kind: "BGPConfiguration",
          metadata: { name: "node.n1" },
          spec: { nodeToNodeMeshEnabled: true },
        },
        {
          apiVersion: "crd.projectcalico.org/v1",
          kind: "BGPConfiguration",
          metadata: { name: "default", resourceVersion: "3" },
          spec: { nodeToNodeMeshEnabled: false, asNumber: 64512 },
        },
      ],
    });
    expect(result).toEqual({
      ok: true,
      value: {
        apiVersion: "crd.projectcalico.org/v1",
        configuration: {
          exists: true,
          nodeToNodeMeshEnabled: false,
          specFields: ["asNumber", "nodeToNodeMeshEnabled"],
          resourceVersion: "3",
        },
      },
    });
  });

  it("treats a missing `default` as Calico's defaults: mesh on", () => {
    const result = projectBgpConfigurationList({ kind: "List", items: [] });
    expect(result.ok && result.value.configuration).toEqual({
      exists: false,
      nodeToNodeMeshEnabled: true,
      specFields: [],
    });
  });
});

describe("readFencingEpoch", () => {
  const rows: { value: string | undefined; want: number | undefined }[] = [
    { value: "7", want: 7 },
    { value: "0", want: 0 },
    { value: undefined, want: undefined },
    { value: "", want: undefined },
    { value: "07", want: undefined },
    { value: "-1", want: undefined },
    { value: "1.5", want: undefined },
    { value: " 7", want: undefined },
    { value: "99999999999999999", want: undefined },
  ];
  for (const { value, want } of rows) {
    it(`reads ${JSON.stringify(value)} as ${String(want)}`, () => {
      const annotations = value === undefined ? {} : { [FENCING_EPOCH_ANNOTATION]: value };
      expect(readFencingEpoch(annotations).fencingEpoch).toBe(want);
    });
  }

  it("is projected onto nodes, BGPPeers and the BGPConfiguration", () => {
    const annotations = { [FENCING_EPOCH_ANNOTATION]: "4" };
    const node = projectNode({ metadata: { name: "n1", annotations } });
    const peer = projectBgpPeer({ metadata: { name: "p", annotations } });
    expect(node.ok && node.value.fencingEpoch).toBe(4);
    expect(peer.ok && peer.value.fencingEpoch).toBe(4);
    expect(projectBgpConfiguration({ metadata: { annotations } }).fencingEpoch).toBe(4);
  });
});
