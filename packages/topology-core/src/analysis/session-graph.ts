import type { ClusterSnapshot } from "../model/cluster.js";
import { isValidClusterId, parseIpv4 } from "../model/ipv4.js";
import { compareStrings } from "../model/order.js";
import {
  compilePeerings,
  createCachedMembership,
  createSignatureTranslation,
  identifyPeerings,
  signaturesPeer,
  type AnalysisCache,
} from "./peerings.js";

/**
 * The BGP sessions Calico would open for a cluster state, compressed.
 *
 * Route reflectors (nodes with a valid cluster ID) are kept one by one. Every other node only
 * originates and receives routes (iBGP speakers that are not reflectors never pass routes on), so
 * non-reflectors with the same session pattern are interchangeable and collapse into one class.
 * A class's pattern is its membership in each side of each node-to-node peering plus the mesh.
 * Sessions: the node-to-node mesh between non-reflectors while it is on, and every pair a BGPPeer
 * selects (`node`/`nodeSelector`/global × `peerSelector`; confd adds the reverse session, so a
 * selected pair peers symmetrically). BGPPeers with an invalid selector are ignored, as Calico does;
 * peerings to a `peerIP` leave the cluster and do not connect nodes.
 */
export interface SessionGraph {
  /** Reflectors first (sorted by node name), then classes (sorted by first member). */
  readonly entities: readonly Entity[];
  /** adjacency[i * n + j] = 1 when members of i and j peer; [i * n + i] = distinct members of class i peer. */
  readonly adjacency: Uint8Array;
  /** Node name → entity index, for nodes that are up (Ready). */
  /** Entity of each node, by its index in the state's `nodes`; -1 for nodes left out (NotReady). */
  readonly entityOfIndex: Int32Array;
  /** Each node's membership signature by index ("" for nodes left out), and the peerings' fingerprint. */
  readonly signatureOfIndex: readonly string[];
  readonly peeringFingerprint: string;
  /** Per node-to-node peering (in signature bit order), its identity (see identifyPeerings). */
  readonly peeringIds: readonly string[];
}

/** A reflector, or a class of interchangeable non-reflector nodes. */
export type Entity =
  | {
      readonly kind: "reflector";
      readonly node: string;
      readonly clusterId: number;
      readonly size: 1;
    }
  | { readonly kind: "class"; readonly members: readonly string[]; readonly size: number };

/** Options of {@link buildSessionGraph}. */
export interface SessionGraphOptions {
  /** Treat NotReady nodes as up (to count configured sessions rather than live ones). */
  readonly includeNotReady?: boolean;
  /** Memo tables shared across the states of one planning run. */
  readonly cache?: AnalysisCache;
  /**
   * The graph of the state this one was derived from by patching the nodes at `changed` indices
   * (same nodes, same order): the other nodes' signatures are reused when the BGPPeers are the same.
   */
  readonly previous?: {
    readonly graph: SessionGraph;
    /** The changed indices (a Set does; anything answering `has` will). */
    readonly changed: { has(index: number): boolean };
  };
}

/**
 * Builds the session graph of `state`. NotReady nodes are down (calico-node there cannot keep
 * sessions) and left out unless `includeNotReady` is set. Selector matches are memoised on the
 * values of the label keys the selectors read, so the cost is one map lookup per node.
 */
export function buildSessionGraph(
  state: ClusterSnapshot,
  options: SessionGraphOptions = {},
): SessionGraph {
  const peerings = compilePeerings(state, options.cache);
  const membership = createCachedMembership(peerings, options.cache);
  const peeringIds = identifyPeerings(peerings);
  const peeringFingerprint = peeringIds.join("\u0001");
  const previous =
    options.previous !== undefined &&
    options.previous.graph.signatureOfIndex.length === state.nodes.length
      ? options.previous
      : undefined;
  // Unchanged nodes keep their signatures, translated when BGPPeers were only deleted.
  const translate =
    previous === undefined || previous.graph.peeringFingerprint === peeringFingerprint
      ? (signature: string) => signature
      : createSignatureTranslation(previous.graph.peeringIds, peeringIds);
  const signatureOfIndex = new Array<string>(state.nodes.length).fill("");
  const reflectors: { node: string; clusterId: number; signature: string; index: number }[] = [];
  const classes = new Map<string, { members: string[]; indexes: number[] }>();
  state.nodes.forEach((node, index) => {
    if (!node.ready && options.includeNotReady !== true) return;
    const reused =
      previous === undefined || translate === undefined || previous.changed.has(index)
        ? ""
        : (previous.graph.signatureOfIndex[index] ?? "");
    const signature =
      reused === "" || translate === undefined ? membership(node) : translate(reused);
    signatureOfIndex[index] = signature;
    if (isValidClusterId(node.routeReflectorClusterId)) {
      reflectors.push({
        node: node.name,
        clusterId: parseIpv4(node.routeReflectorClusterId) ?? 0,
        signature,
        index,
      });
      return;
    }
    const entry = classes.get(signature);
    if (entry === undefined) classes.set(signature, { members: [node.name], indexes: [index] });
    else {
      entry.members.push(node.name);
      entry.indexes.push(index);
    }
  });

  reflectors.sort((a, b) => compareStrings(a.node, b.node));
  const classEntries = [...classes.entries()].sort((a, b) =>
    compareStrings(a[1].members[0] ?? "", b[1].members[0] ?? ""),
  );
  const entities: Entity[] = [
    ...reflectors.map((r) => ({
      kind: "reflector" as const,
      node: r.node,
      clusterId: r.clusterId,
      size: 1 as const,
    })),
    ...classEntries.map(([, entry]) => ({
      kind: "class" as const,
      members: entry.members,
      size: entry.members.length,
    })),
  ];
  const signatures = [
    ...reflectors.map((r) => r.signature),
    ...classEntries.map(([signature]) => signature),
  ];

  const n = entities.length;
  const adjacency = new Uint8Array(n * n);
  const meshOn = state.bgpConfiguration.nodeToNodeMeshEnabled;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const a = entities[i];
      const b = entities[j];
      if (a === undefined || b === undefined) continue;
      if (i === j && a.size < 2) continue;
      const linked =
        (meshOn && a.kind === "class" && b.kind === "class") ||
        signaturesPeer(signatures[i] ?? "", signatures[j] ?? "", peerings.length);
      if (linked) {
        adjacency[i * n + j] = 1;
        adjacency[j * n + i] = 1;
      }
    }
  }

  const entityOfIndex = new Int32Array(state.nodes.length).fill(-1);
  reflectors.forEach((r, entity) => (entityOfIndex[r.index] = entity));
  classEntries.forEach(([, entry], c) => {
    for (const index of entry.indexes) entityOfIndex[index] = reflectors.length + c;
  });
  return { entities, adjacency, entityOfIndex, signatureOfIndex, peeringFingerprint, peeringIds };
}
