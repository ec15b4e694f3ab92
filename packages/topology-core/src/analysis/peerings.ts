import type { BgpPeerInfo, ClusterSnapshot, NodeInfo } from "../model/cluster.js";
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

/** A string that is equal for two peering sets exactly when their selectors are. */
export function fingerprintPeerings(peerings: readonly Peering[]): string {
  return peerings
    .map(
      (p) =>
        `${typeof p.side === "string" ? `node:${p.side}` : p.side.source}\u0000${p.peers.source}`,
    )
    .join("\u0001");
}

/** {@link createMembership}, memoised per node object in `cache` when one is given. */
export function createCachedMembership(
  peerings: readonly Peering[],
  cache?: AnalysisCache,
): (node: NodeInfo) => string {
  const membership = createMembership(peerings);
  if (cache === undefined) return membership;
  const fingerprint = fingerprintPeerings(peerings);
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
 * Returns a function giving a node's membership signature: bit 2p is set when the node is on
 * peering p's node side, bit 2p + 1 when it is on its peer side, packed 16 bits to a character
 * (one character covers eight peerings), so signatures are short strings that key maps cheaply.
 */
export function createMembership(peerings: readonly Peering[]): (node: NodeInfo) => string {
  const chars = Math.max(1, Math.ceil((2 * peerings.length) / 16));
  const codes = new Array<number>(chars).fill(0);
  // Selector results depend only on the values of the keys selectors read: memoise on those.
  // The projection walks the node's own labels (usually fewer than the keys selectors read).
  const keys = new Set(
    peerings.flatMap((p) => [...(typeof p.side === "string" ? [] : p.side.keys), ...p.peers.keys]),
  );
  const named = peerings.some((p) => typeof p.side === "string");
  const byProjection = new Map<string, string>();
  return (node) => {
    let projection = named ? `${node.name}\u0001` : "";
    for (const key in node.labels) {
      if (keys.has(key)) projection += `${key}\u0000${node.labels[key] ?? ""}\u0000`;
    }
    let signature = byProjection.get(projection);
    if (signature !== undefined) return signature;
    codes.fill(0);
    for (let p = 0; p < peerings.length; p++) {
      const peering = peerings[p];
      if (peering === undefined) continue;
      const onSide =
        typeof peering.side === "string"
          ? peering.side === node.name
          : peering.side.matches(node.labels);
      if (onSide) setBit(codes, 2 * p);
      if (peering.peers.matches(node.labels)) setBit(codes, 2 * p + 1);
    }
    signature = String.fromCharCode(...codes);
    byProjection.set(projection, signature);
    return signature;
  };
}

function setBit(codes: number[], bit: number): void {
  const index = bit >>> 4;
  codes[index] = (codes[index] ?? 0) | (1 << (bit & 15));
}

function hasBit(signature: string, bit: number): boolean {
  return ((signature.charCodeAt(bit >>> 4) >>> (bit & 15)) & 1) === 1;
}

/** Whether nodes with signatures `a` and `b` peer through some peering. */
export function signaturesPeer(a: string, b: string, peeringCount: number): boolean {
  for (let p = 0; p < peeringCount; p++) {
    if ((hasBit(a, 2 * p) && hasBit(b, 2 * p + 1)) || (hasBit(b, 2 * p) && hasBit(a, 2 * p + 1)))
      return true;
  }
  return false;
}

/** Whether a node with `signature` is on the node side (`peerSide` false) or peer side of peering `p`. */
export function isOnSide(signature: string, p: number, peerSide: boolean): boolean {
  return hasBit(signature, 2 * p + (peerSide ? 1 : 0));
}
