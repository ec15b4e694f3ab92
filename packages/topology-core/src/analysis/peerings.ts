import type { BgpPeerInfo, ClusterSnapshot, NodeInfo } from "../model/cluster.js";
import { compareStrings } from "../model/order.js";
import {
  allCalicoSelector,
  tryParseCalicoSelector,
  type CalicoSelector,
} from "../selectors/calico-selector.js";

/** A node-to-node peering a BGPPeer asks for: every node on `side` peers every node on `peers`. */
export interface Peering {
  /** A selector, or a node name (`spec.node`). */
  readonly side: CalicoSelector | string;
  readonly peers: CalicoSelector;
}

/**
 * The node-to-node peerings of a state's BGPPeers (owned or not). BGPPeers with an invalid
 * selector are skipped, as Calico skips them; peerings to a `peerIP` leave the cluster.
 */
export function compilePeerings(state: ClusterSnapshot, cache?: AnalysisCache): Peering[] {
  const peerings: Peering[] = [];
  for (const peer of state.bgpPeers) {
    let peering = cache?.peerings.get(peer);
    if (peering === undefined) {
      peering = compilePeering(peer);
      cache?.peerings.set(peer, peering);
    }
    if (peering !== null) peerings.push(peering);
  }
  return peerings;
}

function compilePeering(peer: BgpPeerInfo): Peering | null {
  if (peer.peerSelector === undefined) return null;
  const peers = tryParseCalicoSelector(peer.peerSelector);
  if (peers === undefined) return null;
  if (peer.node !== undefined) return { side: peer.node, peers };
  const side =
    peer.nodeSelector === undefined ? allCalicoSelector : tryParseCalicoSelector(peer.nodeSelector);
  return side === undefined ? null : { side, peers };
}

/**
 * Memo tables that let the planner analyse many states of one cluster cheaply: states share the
 * NodeInfo and BgpPeerInfo objects a step did not touch, so their results are reused.
 */
export interface AnalysisCache {
  readonly peerings: WeakMap<BgpPeerInfo, Peering | null>;
  /** Per peering set (keyed by its selectors), each node's membership signature. */
  readonly signatures: Map<string, WeakMap<NodeInfo, string>>;
}

/** A fresh {@link AnalysisCache}; keep one per planning run. */
export function createAnalysisCache(): AnalysisCache {
  return { peerings: new WeakMap(), signatures: new Map() };
}

/** {@link createMembership}, memoised per node object in `cache` when one is given. */
export function createCachedMembership(
  peerings: readonly Peering[],
  cache?: AnalysisCache,
): (node: NodeInfo) => string {
  const membership = createMembership(peerings);
  if (cache === undefined) return membership;
  const fingerprint = peerings
    .map(
      (p) =>
        `${typeof p.side === "string" ? `node:${p.side}` : p.side.source}\u0000${p.peers.source}`,
    )
    .join("\u0001");
  let table = cache.signatures.get(fingerprint);
  if (table === undefined) cache.signatures.set(fingerprint, (table = new WeakMap()));
  const memo = table;
  return (node) => {
    let signature = memo.get(node);
    if (signature === undefined) {
      signature = membership(node);
      memo.set(node, signature);
    }
    return signature;
  };
}

/**
 * Returns a function giving a node's membership signature: two characters per peering, "1" when
 * the node is on that peering's node side, then "1" when it is on its peer side. Selector results
 * are memoised on the values of the label keys the selectors read.
 */
export function createMembership(peerings: readonly Peering[]): (node: NodeInfo) => string {
  const keys = [
    ...new Set(
      peerings.flatMap((p) => [
        ...(typeof p.side === "string" ? [] : p.side.keys),
        ...p.peers.keys,
      ]),
    ),
  ].sort(compareStrings);
  const named = peerings.some((p) => typeof p.side === "string");
  const cache = new Map<string, string>();
  return (node) => {
    let projection = "";
    for (const key of keys) projection += (node.labels[key] ?? "\u0001") + "\u0000";
    let signature = cache.get(projection);
    if (signature === undefined) {
      signature = "";
      for (const p of peerings) {
        signature += typeof p.side !== "string" && p.side.matches(node.labels) ? "1" : "0";
        signature += p.peers.matches(node.labels) ? "1" : "0";
      }
      cache.set(projection, signature);
    }
    if (!named) return signature;
    const base = signature;
    let out = "";
    peerings.forEach((p, i) => {
      out += typeof p.side === "string" ? (p.side === node.name ? "1" : "0") : base.charAt(2 * i);
      out += base.charAt(2 * i + 1);
    });
    return out;
  };
}

/** Whether nodes with signatures `a` and `b` peer through some peering. */
export function signaturesPeer(a: string, b: string, peeringCount: number): boolean {
  for (let p = 0; p < peeringCount; p++) {
    if (
      (a.charCodeAt(2 * p) === 49 && b.charCodeAt(2 * p + 1) === 49) ||
      (b.charCodeAt(2 * p) === 49 && a.charCodeAt(2 * p + 1) === 49)
    ) {
      return true;
    }
  }
  return false;
}
