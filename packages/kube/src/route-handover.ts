/**
 * The pure half of the route check (see `createCalicoNodeStatusCheck`'s `waitForRoutes`): which
 * handover nodes to read, and which of a node's routes are not handed over yet.
 *
 * Calico's status reporter lists a node's BIRD routes (`birdc show route`: every path, the best
 * one `FIB`, the others `RIB`), each with the session it came over: `NodeMesh` for a `Mesh_`
 * protocol, `BGPPeer` for `Node_`/`Global_`, and that session's peer address. A route is *at risk*
 * when it came over a session to a cluster node that the node does not keep (the step removes or
 * restarts it); it is *handed over* when the same destination also came over a session the node
 * keeps. Routes from outside the cluster (a top-of-rack peer), and routes whose next hop is a node
 * the step exempts (its own block while its sessions restart), are not checked.
 */
import type { RouteHandover } from "./session-check.js";

/** One route of a CalicoNodeStatus report (`status.routes.routesV4[]`). */
export interface ReportedRoute {
  readonly destination: string;
  readonly gateway: string;
  /** `learnedFrom.sourceType`: Kernel, Static, Direct, NodeMesh, BGPPeer. */
  readonly sourceType: string;
  /** `learnedFrom.peerIP`: the session's peer, for NodeMesh and BGPPeer. */
  readonly peerIP: string;
}

/** The Calico route source of each session kind. */
const SOURCE_OF_KIND = { mesh: "NodeMesh", peer: "BGPPeer" } as const;

/**
 * Up to `max` handovers to read, spread over the sets of sessions kept (one node per set in
 * turn, sets in name order, a random member of each): a reflector still sending its table is
 * behind on all of its new clients at once, so one client per reflector set finds it, and a
 * fixed choice would read the same nodes on every pass. `random` returns [0, 1).
 */
export function sampleHandovers(
  handovers: readonly RouteHandover[],
  max: number,
  random: () => number = Math.random,
): { chosen: RouteHandover[]; unchecked: number } {
  const bySet = new Map<string, RouteHandover[]>();
  for (const handover of handovers) {
    const key = handover.keeps
      .map((k) => `${k.peer}:${(k.kinds ?? []).join("+")}`)
      .sort()
      .join(",");
    const list = bySet.get(key) ?? [];
    list.push(handover);
    bySet.set(key, list);
  }
  const sets = [...bySet.keys()].sort().map((key) => [...(bySet.get(key) ?? [])]);
  const chosen: RouteHandover[] = [];
  while (chosen.length < max && sets.some((set) => set.length > 0)) {
    for (const set of sets) {
      if (chosen.length >= max || set.length === 0) continue;
      const index = Math.min(set.length - 1, Math.floor(random() * set.length));
      chosen.push(...set.splice(index, 1));
    }
  }
  return { chosen, unchecked: handovers.length - chosen.length };
}

/**
 * The destinations `routes` has only over sessions the node does not keep, sorted.
 * `keeps`: kept peer address → the route sources its sessions give (NodeMesh, BGPPeer; both when
 * absent). `nodeAddresses`: every cluster node's address (sessions to anything else are not the
 * step's). `exemptAddresses`: nodes whose own routes the step may take away.
 */
export function findRoutesNotHandedOver(
  routes: readonly ReportedRoute[],
  keeps: ReadonlyMap<string, readonly ("mesh" | "peer")[] | undefined>,
  nodeAddresses: ReadonlySet<string>,
  exemptAddresses: ReadonlySet<string>,
): string[] {
  const kept = new Set<string>();
  const atRisk = new Set<string>();
  for (const route of routes) {
    if (route.sourceType !== "NodeMesh" && route.sourceType !== "BGPPeer") continue;
    if (keeps.has(route.peerIP)) {
      const kinds = keeps.get(route.peerIP) ?? ["mesh", "peer"];
      if (kinds.some((kind) => SOURCE_OF_KIND[kind] === route.sourceType)) {
        kept.add(route.destination);
        continue;
      }
    }
    if (!nodeAddresses.has(route.peerIP) || exemptAddresses.has(route.gateway)) continue;
    atRisk.add(route.destination);
  }
  return [...atRisk].filter((destination) => !kept.has(destination)).sort();
}
