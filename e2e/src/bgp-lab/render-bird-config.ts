/**
 * What calico-node's confd (Calico v3.32) writes into a node's BIRD configuration, for the lab.
 * Written from Calico's documented behaviour and its v3.32.1 templates' output, independently of
 * the planner's session model (the lab exists to judge that model):
 *
 * - Mesh: while `BGPConfiguration default` has the mesh on (the default), every node without a
 *   route-reflector cluster ID gets `Mesh_<ip>` to every other such node with an IPv4 address;
 *   the side whose peer has the higher address (string order, as confd compares) is passive.
 * - BGPPeers: a peer with `node`/`nodeSelector` gives each selected node a `Node_<ip>` session to
 *   each node its `peerSelector` selects (or to `peerIP`); one without either is global
 *   (`Global_<ip>`, on every node; passive toward a higher-addressed calico node). Confd adds the
 *   reverse sessions (peerSelector side → node side), one per (node, peer address) — the first
 *   emitted wins, global before node-specific. A node never peers with its own address. Mesh and
 *   explicit sessions to the same neighbour are **not** merged: both protocols exist.
 * - `rr client` and `rr cluster id C` on a session when this node has cluster ID C and the peer
 *   (same AS) has none or a different one.
 * - Pod blocks are static blackhole routes, exported to peers through `calico_aggr()` and
 *   `calico_export_to_bgp_peers()`; learnt routes go to the kernel through
 *   `calico_kernel_programming` (no IPIP/VXLAN: the pool's routes are programmed by BIRD).
 */
import { compileSelector, type Selector } from "./match-selector.js";

/** A Node as calico-node sees it. */
export interface LabNode {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `projectcalico.org/IPv4Address` without its prefix length; undefined: no BGP. */
  readonly address?: string;
  /** `projectcalico.org/RouteReflectorClusterID` when it is a valid IPv4 address. */
  readonly clusterId?: string;
}

/** A BGPPeer's spec fields that decide sessions. */
export interface LabBgpPeer {
  readonly name: string;
  readonly node?: string;
  readonly nodeSelector?: string;
  readonly peerSelector?: string;
  readonly peerIP?: string;
  readonly asNumber?: string;
  /** `spec.reversePeering: Manual` turns confd's reverse sessions off. */
  readonly manualReverse?: boolean;
}

/** The cluster state confd renders from. */
export interface LabClusterState {
  readonly nodes: readonly LabNode[];
  readonly bgpPeers: readonly LabBgpPeer[];
  readonly meshEnabled: boolean;
  /** The cluster's AS number; Calico's default is 64512. */
  readonly asNumber: string;
}

/** One BIRD `protocol bgp` of a node. */
export interface BirdSession {
  /** `Mesh_10_1_0_2`, `Node_…`, `Global_…` (Calico's status reporter parses these names). */
  readonly name: string;
  readonly kind: "Mesh" | "Node" | "Global";
  readonly neighbor: string;
  readonly asNumber: string;
  readonly passive: boolean;
  /** Set when this node reflects to the peer (`rr client; rr cluster id …`). */
  readonly rrClusterId?: string;
}

/** The IP pool the lab's pod blocks come from. */
export const LAB_POOL = "192.168.0.0/16";

/**
 * The BGP sessions confd gives `nodeName`, sorted by name as confd sorts them. BGPPeers with a
 * selector that does not compile select nothing (Calico rejects such objects); why goes to `problems`.
 */
export function renderSessions(
  state: LabClusterState,
  nodeName: string,
  problems?: string[],
): BirdSession[] {
  const self = state.nodes.find((n) => n.name === nodeName);
  const myAddress = self?.address;
  if (self === undefined || myAddress === undefined) return [];
  const sessions: BirdSession[] = [];

  if (self.clusterId === undefined && state.meshEnabled) {
    for (const peer of state.nodes) {
      if (peer.address === undefined || peer.address === myAddress) continue;
      if (peer.clusterId !== undefined) continue;
      sessions.push({
        name: sessionName("Mesh", peer.address),
        kind: "Mesh",
        neighbor: peer.address,
        asNumber: state.asNumber,
        passive: peer.address > myAddress,
      });
    }
  }

  // Confd's peer table: (node, peer address) → peer, first emitted wins, global first.
  const selectors = new Map<string, Selector | null>();
  const select = (selector: string): readonly LabNode[] => {
    let compiled = selectors.get(selector);
    if (compiled === undefined) {
      try {
        compiled = compileSelector(selector);
      } catch (err: unknown) {
        // Calico's validation refuses such a BGPPeer; it selects nobody here.
        problems?.push(err instanceof Error ? err.message : String(err));
        compiled = null;
      }
      selectors.set(selector, compiled);
    }
    const match = compiled;
    return match === null ? [] : state.nodes.filter((n) => match(n.labels));
  };
  interface Candidate {
    readonly address: string;
    readonly asNumber: string;
    readonly clusterId?: string;
    readonly isNode: boolean;
  }
  const globalPeers = new Map<string, Candidate>();
  const nodePeers = new Map<string, Candidate>(); // peers of nodeName only
  const peersOf = (peer: LabBgpPeer): Candidate[] => {
    if (peer.peerSelector !== undefined && peer.peerSelector !== "") {
      return select(peer.peerSelector).flatMap((n) =>
        n.address === undefined
          ? []
          : [
              {
                address: n.address,
                asNumber: state.asNumber,
                ...(n.clusterId ? { clusterId: n.clusterId } : {}),
                isNode: true,
              },
            ],
      );
    }
    if (peer.peerIP === undefined) return [];
    const address = peer.peerIP.split(":")[0] ?? "";
    const node = state.nodes.find((n) => n.address === address);
    return [
      {
        address,
        asNumber: peer.asNumber ?? state.asNumber,
        ...(node?.clusterId ? { clusterId: node.clusterId } : {}),
        isNode: node !== undefined,
      },
    ];
  };
  const isGlobal = (peer: LabBgpPeer): boolean =>
    (peer.nodeSelector ?? "") === "" && (peer.node ?? "") === "";
  const localNodes = (peer: LabBgpPeer): readonly LabNode[] =>
    peer.nodeSelector !== undefined && peer.nodeSelector !== ""
      ? select(peer.nodeSelector)
      : peer.node !== undefined && peer.node !== ""
        ? state.nodes.filter((n) => n.name === peer.node)
        : state.nodes;
  const emitNode = (candidate: Candidate): void => {
    if (globalPeers.has(candidate.address) || nodePeers.has(candidate.address)) return;
    nodePeers.set(candidate.address, candidate);
  };
  for (const peer of state.bgpPeers) {
    if (!isGlobal(peer)) continue;
    for (const candidate of peersOf(peer))
      if (!globalPeers.has(candidate.address)) globalPeers.set(candidate.address, candidate);
  }
  for (const peer of state.bgpPeers) {
    if (isGlobal(peer) || !localNodes(peer).some((n) => n.name === nodeName)) continue;
    for (const candidate of peersOf(peer)) emitNode(candidate);
  }
  // Reverse peerings: nodes the peerSelector selects peer back with the node side.
  for (const peer of state.bgpPeers) {
    if (peer.manualReverse === true || peer.peerSelector === undefined || peer.peerSelector === "")
      continue;
    if (!select(peer.peerSelector).some((n) => n.name === nodeName)) continue;
    for (const n of localNodes(peer)) {
      if (n.address === undefined) continue;
      emitNode({
        address: n.address,
        asNumber: state.asNumber,
        ...(n.clusterId ? { clusterId: n.clusterId } : {}),
        isNode: true,
      });
    }
  }

  const explicit = (kind: "Global" | "Node", candidate: Candidate): BirdSession | undefined => {
    if (candidate.address === myAddress) return undefined;
    const reflects =
      self.clusterId !== undefined &&
      candidate.asNumber === state.asNumber &&
      candidate.clusterId !== self.clusterId;
    return {
      name: sessionName(kind, candidate.address),
      kind,
      neighbor: candidate.address,
      asNumber: candidate.asNumber,
      passive: kind === "Global" && candidate.isNode && candidate.address > myAddress,
      ...(reflects ? { rrClusterId: self.clusterId } : {}),
    };
  };
  for (const candidate of globalPeers.values()) {
    const session = explicit("Global", candidate);
    if (session !== undefined) sessions.push(session);
  }
  for (const candidate of nodePeers.values()) {
    const session = explicit("Node", candidate);
    if (session !== undefined) sessions.push(session);
  }
  return sessions.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** BIRD 1.6 configuration text for one node: Calico v3.32.1's bird.cfg, bird_aggr.cfg and bird_ipam.cfg in one file. */
export function renderBirdConfig(
  state: LabClusterState,
  nodeName: string,
  podBlocks: readonly string[],
  problems?: string[],
): string {
  const self = state.nodes.find((n) => n.name === nodeName);
  const address = self?.address;
  if (address === undefined) throw new Error(`node ${nodeName} has no IPv4 address`);
  const lines: string[] = [
    "# Generated by the rrfleet BGP lab (Calico v3.32 confd rules)",
    // The lab's only additions to Calico's configuration: BIRD logs to stderr, and its kernel
    // protocol logs each route change (and when it starts writing to the kernel), which the
    // route judge pairs with the kernel's events.
    "log stderr all;",
    "function apply_communities ()",
    "{",
    "}",
    "protocol static {",
    "   # IP blocks for this host.",
    ...podBlocks.map((block) => `   route ${block} blackhole;`),
    "}",
    "# Aggregation of routes on this host; export the block, nothing beneath it.",
    "function calico_aggr ()",
    "{",
    ...podBlocks.flatMap((block) => [
      `      if ( net = ${block} ) then { accept; }`,
      `      if ( net ~ ${block} && krt_metric < 1024 ) then { accept; }`,
      `      if ( net ~ ${block} ) then { reject; }`,
    ]),
    "}",
    "function calico_export_to_bgp_peers(bool internal_peer) {",
    "  if (internal_peer) then {",
    "    if (defined(ifname)) then {",
    '      if ((ifname ~ "*.cali") || (ifname ~ "*.calico")) then { reject; }',
    "    }",
    "  }",
    "  apply_communities();",
    "  calico_aggr();",
    `  if (net ~ ${LAB_POOL}) then { accept; }`,
    "}",
    "filter calico_kernel_programming {",
    "  if (defined(source) && (source = RTS_BGP) && !defined(krt_metric)) then {",
    "      krt_metric = 1024;",
    "      if (defined(bgp_local_pref)) then {",
    "          krt_metric = 2147483647 - bgp_local_pref;",
    "      }",
    "      if (krt_metric < 1024) then {",
    "          preference = 200;",
    "      }",
    "  }",
    `  if (net ~ ${LAB_POOL}) then { accept; }`,
    "  accept;",
    "}",
    `router id ${address};`,
    "protocol kernel {",
    // routes: what it exports to the kernel; packets: its scans' corrections (after `-R`);
    // states and events: its start, the end of its initial feed and its scans — notifications
    // reach the kernel only from its first scan after that feed on (kernel-event-pairing.ts).
    "  debug { states, routes, events, packets };",
    "  learn;",
    "  persist;",
    "  scan time 2;",
    "  import all;",
    "  export filter calico_kernel_programming;",
    "  graceful restart;",
    "  merge paths on;",
    "}",
    "protocol device {",
    "  debug { states };",
    "  scan time 2;",
    "}",
    "protocol direct {",
    "  debug { states };",
    '  interface -"cali*", -"kube-ipvs*", "*";',
    "}",
    "template bgp bgp_template {",
    "  debug { states };",
    '  description "Connection to BGP peer";',
    `  local as ${state.asNumber};`,
    "  gateway recursive;",
    "  add paths on;",
    "  graceful restart;",
    "  connect delay time 2;",
    "  connect retry time 5;",
    "  error wait time 5,30;",
    "}",
  ];
  for (const session of renderSessions(state, nodeName, problems)) {
    const internal = session.asNumber === state.asNumber;
    lines.push(
      `protocol bgp ${session.name} from bgp_template {`,
      ...(session.kind === "Mesh" ? [] : ["  ttl security off;", "  multihop;"]),
      `  neighbor ${session.neighbor} as ${session.asNumber};`,
      `  source address ${address};`,
      "  import filter {",
      "    if (defined(bgp_local_pref)&&(bgp_local_pref > 2147482623)) then",
      "      preference = 200;",
      "    accept;",
      "  };",
      "  export filter {",
      "    if (defined(source) && source = RTS_BGP && defined(bgp_local_pref)) then {",
      "      krt_metric = 2147483647 - bgp_local_pref;",
      "    } else {",
      "      if (!defined(krt_metric)) then { krt_metric = 1024; }",
      "      bgp_local_pref = 2147483647 - krt_metric;",
      "    }",
      `    calico_export_to_bgp_peers(${internal ? "true" : "false"});`,
      "    reject;",
      "  };",
      ...(session.passive ? ["  passive on;"] : []),
      ...(session.rrClusterId !== undefined
        ? ["  rr client;", `  rr cluster id ${session.rrClusterId};`]
        : []),
      "}",
    );
  }
  return `${lines.join("\n")}\n`;
}

function sessionName(kind: BirdSession["kind"], address: string): string {
  return `${kind}_${address.replaceAll(".", "_")}`;
}
