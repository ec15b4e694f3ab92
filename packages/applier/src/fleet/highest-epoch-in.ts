import type { ClusterSnapshot } from "@rrfleet/topology-core";

/** The highest `fencingEpoch` on any object of `snapshot`; 0 when none carries one. */
export function highestEpochIn(snapshot: ClusterSnapshot): number {
  let highest = snapshot.bgpConfiguration.fencingEpoch ?? 0;
  for (const node of snapshot.nodes) highest = Math.max(highest, node.fencingEpoch ?? 0);
  for (const peer of snapshot.bgpPeers) highest = Math.max(highest, peer.fencingEpoch ?? 0);
  return highest;
}
