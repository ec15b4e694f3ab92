import type { ClusterSnapshot, NodeInfo } from "../model/cluster.js";
import { isValidClusterId } from "../model/ipv4.js";
import { compareStrings } from "../model/order.js";
import { compilePeerings, createMembership, signaturesPeer } from "./peerings.js";

/** A BGP session between two nodes, by name: `node` < `peer` in code-unit order. */
export interface SessionPair {
  readonly node: string;
  readonly peer: string;
}

/** What decides a node's sessions in one state. */
interface Standing {
  /** Membership signature under that state's BGPPeers. */
  readonly signature: string;
  /** In the node-to-node mesh (the mesh is on and the node is no reflector). */
  readonly meshed: boolean;
}

/**
 * The BGP sessions a controller must see Established after moving the cluster from `before` to
 * `after`, before it removes the sessions they replace: sessions between Ready nodes of `after`
 * (node-to-node mesh included) that `before` did not have, or that have an endpoint whose
 * reflector role changed (its valid cluster ID appeared, went or changed: Calico restarts those
 * sessions). A session "exists" in a state when both nodes are Ready there and the mesh or a
 * BGPPeer selects the pair. Each pair once, `node` < `peer`, sorted by node then peer. Sessions to
 * a BGPPeer's `peerIP` leave the cluster and are not listed. Pure; never throws.
 *
 * Nodes are grouped by what decides their sessions in both states, so the work is classes² plus
 * the pairs returned (every Ready pair, when the mesh comes back on).
 */
export function findSessionsToConfirm(
  before: ClusterSnapshot,
  after: ClusterSnapshot,
): SessionPair[] {
  const afterPeerings = compilePeerings(after);
  const beforePeerings = compilePeerings(before);
  const afterMembership = createMembership(afterPeerings);
  const beforeMembership = createMembership(beforePeerings);
  const standing = (
    state: ClusterSnapshot,
    node: NodeInfo,
    membership: (node: NodeInfo) => string,
  ): Standing => ({
    signature: membership(node),
    meshed:
      state.bgpConfiguration.nodeToNodeMeshEnabled &&
      !isValidClusterId(node.routeReflectorClusterId),
  });
  const previous = new Map<string, NodeInfo>();
  for (const node of before.nodes) if (node.ready) previous.set(node.name, node);

  interface Group {
    readonly now: Standing;
    /** Undefined when the members were absent or NotReady before. */
    readonly then: Standing | undefined;
    readonly roleChanged: boolean;
    readonly members: number[];
  }
  const names = after.nodes
    .filter((node) => node.ready)
    .map((node) => node.name)
    .sort(compareStrings);
  const rank = new Map(names.map((name, i) => [name, i]));
  const groups = new Map<string, Group>();
  for (const node of after.nodes) {
    if (!node.ready) continue;
    const now = standing(after, node, afterMembership);
    const old = previous.get(node.name);
    const then = old === undefined ? undefined : standing(before, old, beforeMembership);
    const roleChanged = old !== undefined && roleOf(old) !== roleOf(node);
    const key = [
      now.signature,
      now.meshed ? "m" : "",
      then === undefined ? "\u0003" : then.signature,
      then?.meshed === true ? "m" : "",
      roleChanged ? "r" : "",
    ].join("\u0002");
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { now, then, roleChanged, members: [] }));
    group.members.push(rank.get(node.name) ?? 0);
  }

  const list = [...groups.values()];
  const peer = (a: Standing, b: Standing, peerings: number) =>
    (a.meshed && b.meshed) || signaturesPeer(a.signature, b.signature, peerings);
  const codes: number[] = [];
  const count = names.length;
  for (let i = 0; i < list.length; i++) {
    for (let j = i; j < list.length; j++) {
      const a = list[i];
      const b = list[j];
      if (a === undefined || b === undefined) continue;
      if (!peer(a.now, b.now, afterPeerings.length)) continue;
      const existed =
        a.then !== undefined && b.then !== undefined && peer(a.then, b.then, beforePeerings.length);
      if (existed && !a.roleChanged && !b.roleChanged) continue;
      for (const x of a.members) {
        for (const y of b.members) {
          if (i === j && y <= x) continue;
          codes.push(x < y ? x * count + y : y * count + x);
        }
      }
    }
  }
  const sorted = Float64Array.from(codes).sort();
  return Array.from(sorted, (code) => ({
    node: names[Math.floor(code / count)] ?? "",
    peer: names[code % count] ?? "",
  }));
}

function roleOf(node: NodeInfo): string | undefined {
  return isValidClusterId(node.routeReflectorClusterId) ? node.routeReflectorClusterId : undefined;
}
