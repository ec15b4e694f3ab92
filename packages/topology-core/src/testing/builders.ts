import type { BgpPeerInfo, ClusterSnapshot, NodeInfo, Taint } from "../model/cluster.js";
import { CLUSTER_ID_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "../model/names.js";

/** Fluent builder for {@link NodeInfo} fixtures: `makeNode("n1").inZone("a").build()`. */
export interface NodeBuilder {
  inZone(zone: string, zoneLabel?: string): NodeBuilder;
  withLabels(labels: Readonly<Record<string, string>>): NodeBuilder;
  withAnnotation(key: string, value: string): NodeBuilder;
  reflector(clusterId: string): NodeBuilder;
  ready(since?: string): NodeBuilder;
  notReady(since?: string): NodeBuilder;
  cordoned(): NodeBuilder;
  tainted(key: string, effect?: Taint["effect"]): NodeBuilder;
  createdAt(iso: string): NodeBuilder;
  build(): NodeInfo;
}

/** Starts a Ready, schedulable, untainted node without labels. */
export function makeNode(name: string): NodeBuilder {
  let node: NodeInfo = {
    name,
    labels: { "kubernetes.io/hostname": name },
    ready: true,
    unschedulable: false,
    taints: [],
  };
  const builder: NodeBuilder = {
    inZone(zone, zoneLabel = "topology.kubernetes.io/zone") {
      node = { ...node, labels: { ...node.labels, [zoneLabel]: zone } };
      return builder;
    },
    withLabels(labels) {
      node = { ...node, labels: { ...node.labels, ...labels } };
      return builder;
    },
    withAnnotation(key, value) {
      if (key === CLUSTER_ID_ANNOTATION) node = { ...node, routeReflectorClusterId: value };
      return builder;
    },
    reflector(clusterId) {
      node = { ...node, routeReflectorClusterId: clusterId };
      return builder;
    },
    ready(since) {
      node = {
        ...node,
        ready: true,
        ...(since === undefined ? {} : { readyTransitionTime: since }),
      };
      return builder;
    },
    notReady(since) {
      node = {
        ...node,
        ready: false,
        ...(since === undefined ? {} : { readyTransitionTime: since }),
      };
      return builder;
    },
    cordoned() {
      node = { ...node, unschedulable: true };
      return builder;
    },
    tainted(key, effect = "NoSchedule") {
      node = { ...node, taints: [...node.taints, { key, effect }] };
      return builder;
    },
    createdAt(iso) {
      node = { ...node, creationTimestamp: iso };
      return builder;
    },
    build() {
      return node;
    },
  };
  return builder;
}

/** A BGPPeer nobody at rrfleet wrote, peering `nodeSelector` nodes with `peerSelector` nodes. */
export function makeForeignPeer(
  name: string,
  spec: Omit<BgpPeerInfo, "name" | "labels">,
): BgpPeerInfo {
  return { name, labels: { team: "network" }, ...spec };
}

/** A BGPPeer labelled as rrfleet's, for ownership tests. */
export function makeOwnedPeer(
  name: string,
  spec: Omit<BgpPeerInfo, "name" | "labels">,
): BgpPeerInfo {
  return { name, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE }, ...spec };
}

/** Options of {@link makeCluster}. */
export interface ClusterOptions {
  readonly bgpPeers?: readonly BgpPeerInfo[];
  /** Mesh state; default on with no BGPConfiguration object (Calico's default). */
  readonly mesh?: boolean;
}

/** A cluster snapshot from nodes (builders or built), on the v1 Calico API. */
export function makeCluster(
  nodes: readonly (NodeInfo | NodeBuilder)[],
  options: ClusterOptions = {},
): ClusterSnapshot {
  return {
    nodes: nodes.map((n) => ("build" in n ? n.build() : n)),
    bgpPeers: options.bgpPeers ?? [],
    bgpConfiguration:
      options.mesh === undefined
        ? { exists: false, nodeToNodeMeshEnabled: true, specFields: [] }
        : {
            exists: true,
            nodeToNodeMeshEnabled: options.mesh,
            specFields: ["nodeToNodeMeshEnabled"],
          },
    calicoApiVersion: "crd.projectcalico.org/v1",
  };
}

/** `count` Ready nodes named `<prefix>-<i>` spread round-robin over `zones`. */
export function makeNodes(
  count: number,
  zones: readonly string[] = ["a", "b", "c"],
  prefix = "node",
): NodeInfo[] {
  return Array.from({ length: count }, (_, i) => {
    const builder = makeNode(`${prefix}-${String(i).padStart(5, "0")}`);
    const zone = zones[i % Math.max(zones.length, 1)];
    return (zone === undefined ? builder : builder.inZone(zone)).build();
  });
}
