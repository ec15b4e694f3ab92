import fc from "fast-check";
import type { BgpPeerInfo, ClusterSnapshot, NodeInfo } from "../model/cluster.js";
import { DEFAULT_POLICY, type Policy } from "../policy/policy.js";
import { makeForeignPeer } from "./builders.js";

type ForeignPeerKind = "tor" | "racks" | "broken";

/** The instant random clusters are judged against (NotReady grace). */
export const ARBITRARY_NOW = new Date("2026-06-01T12:00:00Z");

/** Options of {@link arbitraryCluster}. */
export interface ArbitraryClusterOptions {
  readonly minNodes?: number;
  readonly maxNodes?: number;
  /** Allow nodes that are already reflectors (annotation, maybe rrfleet's label). */
  readonly existingReflectors?: boolean;
  /** Allow BGPPeers rrfleet does not own. */
  readonly foreignPeers?: boolean;
  /** Allow NotReady, cordoned, tainted and excluded nodes. */
  readonly unhealthyNodes?: boolean;
  /** Allow the mesh to start off. */
  readonly meshOff?: boolean;
}

/**
 * Random clusters: zones (some nodes unzoned), NotReady (inside and past grace), cordoned,
 * lifecycle-tainted and excluded nodes, existing reflectors with clashing cluster IDs, and
 * foreign BGPPeers (to a ToR by IP, and between racks by selector).
 */
export function arbitraryCluster(
  options: ArbitraryClusterOptions = {},
): fc.Arbitrary<ClusterSnapshot> {
  const { minNodes = 1, maxNodes = 60 } = options;
  const nodeArb = fc.record({
    zone: fc.constantFrom("a", "b", "c", "d", ""),
    rack: fc.constantFrom("r1", "r2", "r3"),
    health:
      options.unhealthyNodes === false
        ? fc.constant("ok" as const)
        : fc.constantFrom(
            "ok",
            "ok",
            "ok",
            "ok",
            "ok",
            "ok",
            "ok",
            "ok",
            "notReadyRecent",
            "notReadyOld",
            "cordoned",
            "tainted",
            "excluded",
          ),
    reflector:
      options.existingReflectors === true
        ? fc.option(
            fc.record({
              id: fc.constantFrom("244.0.0.1", "244.0.0.2", "10.9.9.9", "not-an-ip"),
              labelled: fc.boolean(),
            }),
            { freq: 8 },
          )
        : fc.constant(null),
    ageDays: fc.integer({ min: 0, max: 400 }),
  });
  return fc
    .record({
      nodes: fc.array(nodeArb, { minLength: minNodes, maxLength: maxNodes }),
      zoneCount: fc.integer({ min: 1, max: 4 }),
      foreign:
        options.foreignPeers === true
          ? fc.subarray<ForeignPeerKind>(["tor", "racks", "broken"])
          : fc.constant<ForeignPeerKind[]>([]),
      meshOn: options.meshOff === true ? fc.boolean() : fc.constant(true),
    })
    .map(({ nodes, zoneCount, foreign, meshOn }) => {
      const built: NodeInfo[] = nodes.map((n, i) => {
        const name = `n${String(i).padStart(3, "0")}`;
        const zones = ["a", "b", "c", "d"].slice(0, zoneCount);
        const zone = n.zone === "" ? "" : (zones[i % zones.length] ?? "a");
        const labels: Record<string, string> = { "kubernetes.io/hostname": name, rack: n.rack };
        if (zone !== "") labels["topology.kubernetes.io/zone"] = zone;
        if (n.health === "excluded") labels["node-role.kubernetes.io/control-plane"] = "";
        if (n.reflector?.labelled === true) labels["rrfleet.io/reflector"] = String((i % 7) + 1);
        const notReady = n.health === "notReadyRecent" || n.health === "notReadyOld";
        const since = new Date(
          ARBITRARY_NOW.getTime() - (n.health === "notReadyRecent" ? 60_000 : 3_600_000),
        );
        return {
          name,
          labels,
          ready: !notReady,
          readyTransitionTime: since.toISOString(),
          unschedulable: n.health === "cordoned",
          taints:
            n.health === "tainted"
              ? [{ key: "node.kubernetes.io/disk-pressure", effect: "NoSchedule" as const }]
              : [],
          creationTimestamp: new Date(
            ARBITRARY_NOW.getTime() - n.ageDays * 86_400_000,
          ).toISOString(),
          ...(n.reflector === null ? {} : { routeReflectorClusterId: n.reflector.id }),
        };
      });
      const peers: BgpPeerInfo[] = [];
      if (foreign.includes("tor"))
        peers.push(makeForeignPeer("tor-router", { peerIP: "192.0.2.1", asNumber: 65000 }));
      if (foreign.includes("racks"))
        peers.push(
          makeForeignPeer("rack-r1-r2", {
            nodeSelector: "rack == 'r1'",
            peerSelector: "rack == 'r2'",
          }),
        );
      if (foreign.includes("broken"))
        peers.push(
          makeForeignPeer("broken-selector", { nodeSelector: "rack ==", peerSelector: "all()" }),
        );
      return {
        nodes: built,
        bgpPeers: peers,
        bgpConfiguration: meshOn
          ? { exists: false, nodeToNodeMeshEnabled: true, specFields: [] }
          : {
              exists: true,
              nodeToNodeMeshEnabled: false,
              specFields: ["nodeMeshPassword", "nodeToNodeMeshEnabled"],
            },
        calicoApiVersion: "crd.projectcalico.org/v1" as const,
      };
    });
}

/** Random valid policies. */
export function arbitraryPolicy(
  topologies: readonly Policy["topology"][] = ["single", "multi", "zoned"],
): fc.Arbitrary<Policy> {
  return fc
    .record({
      topology: fc.constantFrom(...topologies),
      min: fc.integer({ min: 1, max: 4 }),
      extra: fc.integer({ min: 0, max: 4 }),
      ratio: fc.constantFrom(0.005, 0.02, 0.05, 0.1, 0.3),
      reflectorsPerNode: fc.integer({ min: 1, max: 3 }),
      exclude: fc.boolean(),
    })
    .map(({ topology, min, extra, ratio, reflectorsPerNode, exclude }) => ({
      ...DEFAULT_POLICY,
      topology,
      min,
      max: min + extra,
      ratio,
      reflectorsPerNode,
      ...(exclude ? { excludeNodeSelector: "node-role.kubernetes.io/control-plane" } : {}),
    }));
}

/** How a realistic cluster got its current reflectors. */
export type ClusterHistory = "fresh" | "calicoRecipe" | "rrfleet";

/**
 * Clusters a real user would bring: fresh (mesh on, no reflectors); reflectors made by hand with
 * Calico's recipe (one shared cluster ID, `route-reflector=true`, a BGPPeer peering every node
 * with them, mesh off); or converged by rrfleet under another policy and then disturbed (nodes
 * NotReady, cordoned or deleted). Unlike {@link arbitraryCluster} (any labels and annotations,
 * however inconsistent), the planner must bring these all the way to the design.
 */
export function arbitraryRealisticCluster(
  plan: (cluster: ClusterSnapshot, policy: Policy) => ClusterSnapshot,
): fc.Arbitrary<{ cluster: ClusterSnapshot; history: ClusterHistory }> {
  return fc
    .record({
      base: arbitraryCluster({ minNodes: 3, maxNodes: 60, foreignPeers: true }),
      history: fc.constantFrom<ClusterHistory>("fresh", "calicoRecipe", "rrfleet"),
      earlier: arbitraryPolicy(),
      reflectorCount: fc.integer({ min: 1, max: 3 }),
      disturb: fc.array(
        fc.record({ index: fc.nat(), what: fc.constantFrom("notReady", "cordon", "delete") }),
        { maxLength: 4 },
      ),
    })
    .map(({ base, history, earlier, reflectorCount, disturb }) => {
      let cluster = base;
      if (history === "calicoRecipe") {
        const ready = cluster.nodes
          .filter((n) => n.ready)
          .slice(0, reflectorCount)
          .map((n) => n.name);
        cluster = {
          ...cluster,
          nodes: cluster.nodes.map((n) =>
            ready.includes(n.name)
              ? {
                  ...n,
                  routeReflectorClusterId: "244.0.0.1",
                  labels: { ...n.labels, "route-reflector": "true" },
                }
              : n,
          ),
          bgpPeers: [
            ...cluster.bgpPeers,
            makeForeignPeer("peer-with-route-reflectors", {
              nodeSelector: "all()",
              peerSelector: "route-reflector == 'true'",
            }),
          ],
          bgpConfiguration: {
            exists: true,
            nodeToNodeMeshEnabled: false,
            specFields: ["nodeToNodeMeshEnabled"],
          },
        };
      }
      if (history === "rrfleet") {
        cluster = plan(cluster, earlier);
        for (const { index, what } of disturb) {
          const victim = cluster.nodes[index % cluster.nodes.length];
          if (victim === undefined) continue;
          cluster = {
            ...cluster,
            nodes:
              what === "delete"
                ? cluster.nodes.filter((n) => n !== victim)
                : cluster.nodes.map((n) =>
                    n === victim
                      ? what === "cordon"
                        ? { ...n, unschedulable: true }
                        : {
                            ...n,
                            ready: false,
                            readyTransitionTime: new Date(
                              ARBITRARY_NOW.getTime() - 600_000,
                            ).toISOString(),
                          }
                      : n,
                  ),
          };
        }
      }
      return { cluster, history };
    });
}
