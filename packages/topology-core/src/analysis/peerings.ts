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
    const peering = compileBgpPeer(peer, cache);
    if (peering !== null) peerings.push(peering);
  }
  return peerings;
}

/** The node-to-node peering one BGPPeer asks for, or null when Calico ignores it or it leaves the cluster. */
export function compileBgpPeer(peer: BgpPeerInfo, cache?: AnalysisCache): Peering | null {
  let peering = cache?.peerings.get(peer);
  if (peering === undefined) {
    peering = compilePeering(peer);
    cache?.peerings.set(peer, peering);
  }
  return peering;
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
 * BgpPeerInfo objects a step did not touch, and nodes with the same labels (as far as selectors
 * read them) share signatures, so results are reused across states.
 */
export interface AnalysisCache {
  readonly peerings: WeakMap<BgpPeerInfo, Peering | null>;
  /** Per peering set (keyed by its selectors), the membership function and its memo. */
  readonly memberships: Map<string, (node: NodeInfo) => string>;
}

/** A fresh {@link AnalysisCache}; keep one per planning run. */
export function createAnalysisCache(): AnalysisCache {
  return { peerings: new WeakMap(), memberships: new Map() };
}

/** A string that is equal for two peering sets exactly when their selectors are. */
export function fingerprintPeerings(peerings: readonly Peering[]): string {
  return identifyPeerings(peerings).join("\u0001");
}

/** Per peering, a string equal for two peerings exactly when their selectors are. */
export function identifyPeerings(peerings: readonly Peering[]): string[] {
  return peerings.map(
    (p) =>
      `${typeof p.side === "string" ? `node:${p.side}` : p.side.source}\u0000${p.peers.source}`,
  );
}

/**
 * Returns a function translating a signature under the peerings `from` (their identities) into
 * the signature under `to`, or undefined when some peering of `to` is not in `from` (then the
 * labels must be read again). Used when BGPPeers are only deleted: a node's membership in the
 * remaining peerings is unchanged.
 */
export function createSignatureTranslation(
  from: readonly string[],
  to: readonly string[],
): ((signature: string) => string) | undefined {
  const oldIndexes = new Map<string, number[]>();
  from.forEach((id, i) => {
    const list = oldIndexes.get(id);
    if (list === undefined) oldIndexes.set(id, [i]);
    else list.push(i);
  });
  const source: number[] = [];
  for (const id of to) {
    const old = oldIndexes.get(id)?.shift();
    if (old === undefined) return undefined;
    source.push(old);
  }
  const chars = Math.max(1, Math.ceil((2 * to.length) / 16));
  const memo = new Map<string, string>();
  const codes = new Array<number>(chars);
  return (signature) => {
    let translated = memo.get(signature);
    if (translated !== undefined) return translated;
    codes.fill(0);
    source.forEach((old, p) => {
      if (hasBit(signature, 2 * old)) setBit(codes, 2 * p);
      if (hasBit(signature, 2 * old + 1)) setBit(codes, 2 * p + 1);
    });
    translated = String.fromCharCode(...codes);
    memo.set(signature, translated);
    return translated;
  };
}

/** {@link createMembership}, shared (with its memo) per peering set in `cache` when one is given. */
export function createCachedMembership(
  peerings: readonly Peering[],
  cache?: AnalysisCache,
): (node: NodeInfo) => string {
  if (cache === undefined) return createMembership(peerings);
  const fingerprint = fingerprintPeerings(peerings);
  let membership = cache.memberships.get(fingerprint);
  if (membership === undefined)
    cache.memberships.set(fingerprint, (membership = createMembership(peerings)));
  return membership;
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
  // The projection walks the node's own labels (usually fewer than the keys selectors read), each
  // read key standing as a one-character token, so projections are short to build and hash.
  const tokens = new Map<string, string>();
  for (const p of peerings)
    for (const key of [...(typeof p.side === "string" ? [] : p.side.keys), ...p.peers.keys])
      if (!tokens.has(key)) tokens.set(key, String.fromCharCode(0x100 + tokens.size));
  const named = peerings.some((p) => typeof p.side === "string");
  const byProjection = new Map<string, string>();
  return (node) => {
    let projection = named ? `${node.name}\u0001` : "";
    const labels = node.labels;
    for (const key in labels) {
      const token = tokens.get(key);
      if (token !== undefined) projection += `${token}${labels[key] ?? ""}\u0000`;
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

/**
 * Whether a node with signature `outer` is on every side `inner` is on (for one peering set), so
 * it has every session a node with `inner` has, and maybe more.
 */
export function coversSignature(outer: string, inner: string): boolean {
  for (let i = 0; i < inner.length; i++) {
    if ((inner.charCodeAt(i) & ~outer.charCodeAt(i)) !== 0) return false;
  }
  return true;
}
