import {
  compilePeerings,
  createCachedMembership,
  isOnSide,
  type AnalysisCache,
} from "../analysis/peerings.js";
import type { ClusterSnapshot, NodeInfo } from "../model/cluster.js";

/**
 * For each node in `targets`, the nodes satisfying `include` that BGPPeers (not the mesh) peer it
 * with in `state`: the clients whose reflector session changes when the target is promoted or
 * demoted.
 */
export function findSessionPartners(
  state: ClusterSnapshot,
  targets: readonly string[],
  include: (node: NodeInfo) => boolean,
  cache?: AnalysisCache,
): Map<string, Set<string>> {
  const result = new Map<string, Set<string>>(targets.map((t) => [t, new Set<string>()]));
  if (targets.length === 0) return result;
  const peerings = compilePeerings(state, cache);
  const membership = createCachedMembership(peerings, cache);
  const signatures = new Map(state.nodes.map((node) => [node.name, membership(node)]));
  const sideMembers = peerings.map(() => [] as string[]);
  const peerMembers = peerings.map(() => [] as string[]);
  for (const node of state.nodes) {
    if (!include(node)) continue;
    const signature = signatures.get(node.name) ?? "";
    peerings.forEach((_, p) => {
      if (isOnSide(signature, p, false)) sideMembers[p]?.push(node.name);
      if (isOnSide(signature, p, true)) peerMembers[p]?.push(node.name);
    });
  }
  for (const target of targets) {
    const signature = signatures.get(target) ?? "";
    const partners = result.get(target) ?? new Set<string>();
    peerings.forEach((_, p) => {
      if (isOnSide(signature, p, false))
        for (const name of peerMembers[p] ?? []) partners.add(name);
      if (isOnSide(signature, p, true)) for (const name of sideMembers[p] ?? []) partners.add(name);
    });
    partners.delete(target);
  }
  return result;
}
