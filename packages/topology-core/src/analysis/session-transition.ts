/**
 * What real BGP (BIRD 1.6, as calico-node configures it) does between two cluster states, beyond
 * which sessions exist in each. Measured in the BGP lab (`e2e/src/bgp-lab`) and in
 * `../shared/NOTES.md`:
 *
 * - **Duplicate neighbours.** Calico does not merge a node-to-node mesh session and an explicit
 *   (BGPPeer) session to the same neighbour: BIRD gets both protocols, one of them holds the TCP
 *   session and the other stays Idle for as long as both exist. Which one holds is not knowable
 *   from the cluster. So a pair that had both and loses either one loses its session until the
 *   other one establishes — seconds to a minute, since both ends of an explicit session dial and
 *   collide.
 * - **Role changes restart sessions.** A node whose route-reflector cluster ID appears, goes or
 *   changes gets new `rr client` / `rr cluster id` options (and leaves or rejoins the mesh): every
 *   BGP session of that node restarts, and while it does, the node neither learns nor passes on
 *   routes. Its own routes, and its view of others', are unavoidably gone meanwhile.
 * - **New sessions are down at first.** A session that did not exist before a change carries
 *   nothing until it is Established.
 *
 * The *transition* from `before` to `after` is therefore the state in which only the **stable**
 * sessions carry routes: pairs of nodes that had a session before (protocols K0) and still have
 * every protocol of K0 after, neither node having changed role. A step is safe on real BGP only
 * if the transition keeps every route `before` had between nodes that do not change role; and
 * before a step that removes or restarts any session, the stable sessions it relies on must be
 * Established (a controller confirms them from CalicoNodeStatus), since the planner's analysis of
 * `before` assumed they were.
 */
import type { ClusterSnapshot, NodeInfo } from "../model/cluster.js";
import { isValidClusterId, parseIpv4 } from "../model/ipv4.js";
import { compareStrings } from "../model/order.js";
import { computeReachability } from "./compute-reachability.js";
import { signaturesPeer } from "./peerings.js";
import type { RouteView } from "./reachability-report.js";
import type { Entity, SessionGraph } from "./session-graph.js";

/** The BIRD protocols a pair of nodes has: the node-to-node mesh, an explicit (BGPPeer) session. */
export type SessionKind = "mesh" | "peer";

/** A session a controller must see Established: `node` < `peer`, with the protocols it has now (either one Established will do). */
export interface SessionToConfirm {
  readonly node: string;
  readonly peer: string;
  readonly kinds: readonly SessionKind[];
}

/** Options of {@link findSessionsToConfirm}. */
export interface FindSessionsToConfirmOptions {
  /**
   * Sessions that are only mesh sessions are confirmed for these many nodes (the first Ready
   * non-reflectors by name) with all their mesh peers, not for every pair: the mesh is N² sessions
   * (12.5 million at 5,000 nodes), and one node's status reports all of its peers. Default 16.
   */
  readonly meshSampleNodes?: number;
  /**
   * A node is a route handover only when it keeps at most this many sessions (all of them are
   * listed in its handover); default 64. Nodes that keep more are on the mesh, whose routes no
   * step takes away.
   */
  readonly maxHandoverKeeps?: number;
}

/**
 * A node that loses sessions in the step and keeps others: every route it has over a session it
 * loses must already reach it over one it keeps. A session being Established does not say that
 * (a reflector busy sending its table to hundreds of new clients is Established to all of them
 * long before the last one has every route), so a controller checks the node's routes as well.
 */
export interface RouteHandover {
  readonly node: string;
  /** Every session the node keeps: the peer and the protocols the pair has now. */
  readonly keeps: readonly { readonly peer: string; readonly kinds: readonly SessionKind[] }[];
}

/** What {@link findSessionsToConfirm} found. */
export interface SessionsToConfirm {
  /** The step removes or restarts at least one session: confirm `sessions` before applying it. */
  readonly removesSessions: boolean;
  /** The stable sessions the step relies on, sorted by node then peer. */
  readonly sessions: readonly SessionToConfirm[];
  /** Stable mesh-only sessions left out by `meshSampleNodes`. */
  readonly sampledOut: number;
  /** Nodes whose routes must be handed over to the sessions they keep (see {@link RouteHandover}), by name. */
  readonly handovers: readonly RouteHandover[];
  /**
   * Nodes whose own routes the step may take away, by name: they change role (their sessions
   * restart, the unavoidable own-block loss) or are not Ready in one of the states. Routes to
   * their blocks are not part of any handover.
   */
  readonly exempt: readonly string[];
}

/** The transition's routes: `graph` has the stable sessions only; nodes changing role are left out (-1). */
export interface TransitionView extends RouteView {
  /** The step removes or restarts at least one session. */
  readonly removesSessions: boolean;
}

/** One group of interchangeable nodes across the two states. */
interface Group {
  /** Indexes into the states' `nodes` (both states list the same nodes in the same order). */
  readonly members: number[];
  readonly before: Standing;
  readonly after: Standing;
  /** A reflector in both states with the same cluster ID (groups of one), or undefined. */
  readonly reflector?: { readonly node: string; readonly clusterId: number };
}

/** What decides a node's protocols in one state. */
interface Standing {
  readonly signature: string;
  /** The node has mesh sessions: the mesh is on and it is not a reflector. */
  readonly meshed: boolean;
}

/**
 * The transition from `before` to `after` (same nodes, same order: a step's start and end), as
 * a route view over its stable sessions. Nodes whose role changes are left out: their routes are
 * the unavoidable own-block loss, which callers do not count. Compare it with
 * `findLostRoutes(before, transition)`.
 */
export function viewTransition(before: RouteView, after: RouteView): TransitionView {
  const { groups, removesSessions } = groupTransition(before, after);
  const reflectors = groups
    .filter((g) => g.reflector !== undefined)
    .sort((a, b) => compareStrings(a.reflector?.node ?? "", b.reflector?.node ?? ""));
  const classes = groups
    .filter((g) => g.reflector === undefined)
    .sort((a, b) =>
      compareStrings(nameOf(after.state, a.members[0]), nameOf(after.state, b.members[0])),
    );
  const ordered = [...reflectors, ...classes];
  const entities: Entity[] = ordered.map((g) =>
    g.reflector !== undefined
      ? { kind: "reflector", node: g.reflector.node, clusterId: g.reflector.clusterId, size: 1 }
      : {
          kind: "class",
          members: g.members.map((i) => nameOf(after.state, i)),
          size: g.members.length,
        },
  );
  const n = ordered.length;
  const adjacency = new Uint8Array(n * n);
  const p0 = before.graph.peeringIds.length;
  const p1 = after.graph.peeringIds.length;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const a = ordered[i];
      const b = ordered[j];
      if (a === undefined || b === undefined || (i === j && a.members.length < 2)) continue;
      if (isStable(a, b, p0, p1)) {
        adjacency[i * n + j] = 1;
        adjacency[j * n + i] = 1;
      }
    }
  }
  const entityOfIndex = new Int32Array(after.state.nodes.length).fill(-1);
  ordered.forEach((g, e) => {
    for (const i of g.members) entityOfIndex[i] = e;
  });
  const graph: SessionGraph = {
    entities,
    adjacency,
    entityOfIndex,
    signatureOfIndex: after.graph.signatureOfIndex,
    peeringFingerprint: after.graph.peeringFingerprint,
    peeringIds: after.graph.peeringIds,
  };
  return { state: after.state, graph, reach: computeReachability(graph), removesSessions };
}

/**
 * The sessions a controller must see Established before moving the cluster from `before` to
 * `after`: the stable sessions of the transition (see the module comment), with the protocols
 * they have in `before`. `removesSessions` says whether the step removes or restarts any session;
 * when it does not, nothing needs confirming first. Pure; never throws.
 */
export function findSessionsToConfirm(
  before: RouteView,
  after: RouteView,
  options: FindSessionsToConfirmOptions = {},
): SessionsToConfirm {
  const { groups, removesSessions, changing } = groupTransition(before, after);
  if (!removesSessions)
    return { removesSessions, sessions: [], sampledOut: 0, handovers: [], exempt: [] };
  const meshSampleNodes = options.meshSampleNodes ?? 16;
  const names = before.state.nodes.map((node) => node.name);
  // The mesh sample: the first Ready non-reflectors of `before`, by name.
  const sample = new Set(
    before.state.nodes
      .filter((node) => node.ready && !isValidClusterId(node.routeReflectorClusterId))
      .map((node) => node.name)
      .sort(compareStrings)
      .slice(0, meshSampleNodes),
  );
  const p0 = before.graph.peeringIds.length;
  const p1 = after.graph.peeringIds.length;
  const sessions: SessionToConfirm[] = [];
  let sampledOut = 0;
  for (let i = 0; i < groups.length; i++) {
    for (let j = i; j < groups.length; j++) {
      const a = groups[i];
      const b = groups[j];
      if (a === undefined || b === undefined || !isStable(a, b, p0, p1)) continue;
      const kinds = kindsOf(a.before, b.before, p0);
      const meshOnly = kinds.length === 1 && kinds[0] === "mesh";
      for (const x of a.members) {
        for (const y of b.members) {
          if (i === j && y <= x) continue;
          const nx = names[x] ?? "";
          const ny = names[y] ?? "";
          if (meshOnly && !sample.has(nx) && !sample.has(ny)) {
            sampledOut++;
            continue;
          }
          sessions.push(
            compareStrings(nx, ny) < 0
              ? { node: nx, peer: ny, kinds }
              : { node: ny, peer: nx, kinds },
          );
        }
      }
    }
  }
  sessions.sort((a, b) => compareStrings(a.node, b.node) || compareStrings(a.peer, b.peer));
  const handovers = findHandovers(before, groups, changing, p0, p1, options.maxHandoverKeeps ?? 64);
  const changed = new Set(changing);
  const exempt = before.state.nodes
    .filter((node, i) => changed.has(i) || !node.ready || after.state.nodes[i]?.ready !== true)
    .map((node) => node.name)
    .sort(compareStrings);
  return { removesSessions, sessions, sampledOut, handovers, exempt };
}

/**
 * The nodes that lose a session in the step (to a node of any group, or to a node changing role)
 * and keep between one and `maxKeeps` sessions, each with every session it keeps, sorted by name.
 */
function findHandovers(
  before: RouteView,
  groups: readonly Group[],
  changing: readonly number[],
  beforePeerings: number,
  afterPeerings: number,
  maxKeeps: number,
): RouteHandover[] {
  const names = before.state.nodes.map((node) => node.name);
  const { entityOfIndex, adjacency, entities } = before.graph;
  const n = entities.length;
  const hadSession = (x: number, y: number): boolean => {
    const ex = entityOfIndex[x] ?? -1;
    const ey = entityOfIndex[y] ?? -1;
    return ex >= 0 && ey >= 0 && adjacency[ex * n + ey] === 1;
  };
  const handovers: RouteHandover[] = [];
  for (const a of groups) {
    const first = a.members[0];
    if (first === undefined) continue;
    let loses = changing.some((r) => hadSession(first, r));
    const kept: { group: Group; kinds: SessionKind[] }[] = [];
    let keeps = 0;
    for (const b of groups) {
      const others = b === a ? b.members.length - 1 : b.members.length;
      if (others <= 0) continue;
      const kinds = kindsOf(a.before, b.before, beforePeerings);
      if (kinds.length === 0) continue;
      if (isStable(a, b, beforePeerings, afterPeerings)) {
        kept.push({ group: b, kinds });
        keeps += others;
      } else {
        loses = true;
      }
    }
    if (!loses || keeps === 0 || keeps > maxKeeps) continue;
    for (const x of a.members) {
      handovers.push({
        node: names[x] ?? "",
        keeps: kept
          .flatMap(({ group, kinds }) =>
            group.members.filter((y) => y !== x).map((y) => ({ peer: names[y] ?? "", kinds })),
          )
          .sort((p, q) => compareStrings(p.peer, q.peer)),
      });
    }
  }
  return handovers.sort((p, q) => compareStrings(p.node, q.node));
}

/** The protocols a pair has in one state (empty: no session). */
function kindsOf(a: Standing, b: Standing, peerings: number): SessionKind[] {
  const kinds: SessionKind[] = [];
  if (a.meshed && b.meshed) kinds.push("mesh");
  if (signaturesPeer(a.signature, b.signature, peerings)) kinds.push("peer");
  return kinds;
}

/** A pair's session survives the transition: it existed, and every protocol it had is still there. */
function isStable(a: Group, b: Group, beforePeerings: number, afterPeerings: number): boolean {
  const then = kindsOf(a.before, b.before, beforePeerings);
  if (then.length === 0) return false;
  const now = kindsOf(a.after, b.after, afterPeerings);
  return then.every((kind) => now.includes(kind));
}

/**
 * Groups the nodes Ready in both states by what decides their protocols in each; nodes whose role
 * changes are in no group. Also says whether any session is removed or restarted.
 */
function groupTransition(
  before: RouteView,
  after: RouteView,
): { groups: Group[]; removesSessions: boolean; changing: number[] } {
  const s0 = before.state;
  const s1 = after.state;
  if (s0.nodes.length !== s1.nodes.length)
    throw new Error("viewTransition: the states must list the same nodes in the same order");
  const byKey = new Map<string, Group>();
  const groups: Group[] = [];
  const mesh0 = s0.bgpConfiguration.nodeToNodeMeshEnabled;
  const mesh1 = s1.bgpConfiguration.nodeToNodeMeshEnabled;
  let roleChangedWithSessions = false;
  /** Nodes Ready in both states whose role changes. */
  const changing: number[] = [];
  for (let i = 0; i < s0.nodes.length; i++) {
    const n0 = s0.nodes[i];
    const n1 = s1.nodes[i];
    if (n0 === undefined || n1 === undefined || !n0.ready || !n1.ready) continue;
    const sig0 = before.graph.signatureOfIndex[i] ?? "";
    const sig1 = after.graph.signatureOfIndex[i] ?? "";
    if (roleOf(n0) !== roleOf(n1)) {
      changing.push(i);
      // Its sessions restart; whether it had any decides whether the step restarts something.
      const e0 = before.graph.entityOfIndex[i] ?? -1;
      const n = before.graph.entities.length;
      if (e0 >= 0 && before.graph.adjacency.subarray(e0 * n, e0 * n + n).some((x) => x === 1))
        roleChangedWithSessions = true;
      continue;
    }
    const role = roleOf(n1);
    const standingBefore = { signature: sig0, meshed: mesh0 && role === undefined };
    const standingAfter = { signature: sig1, meshed: mesh1 && role === undefined };
    if (role !== undefined) {
      groups.push({
        members: [i],
        before: standingBefore,
        after: standingAfter,
        reflector: { node: n1.name, clusterId: parseIpv4(role) ?? 0 },
      });
      continue;
    }
    const key = `${sig0}\u0001${sig1}`;
    let group = byKey.get(key);
    if (group === undefined) {
      group = { members: [], before: standingBefore, after: standingAfter };
      byKey.set(key, group);
      groups.push(group);
    }
    group.members.push(i);
  }
  let removesSessions = roleChangedWithSessions;
  const p0 = before.graph.peeringIds.length;
  const p1 = after.graph.peeringIds.length;
  for (let i = 0; i < groups.length && !removesSessions; i++) {
    for (let j = i; j < groups.length && !removesSessions; j++) {
      const a = groups[i];
      const b = groups[j];
      if (a === undefined || b === undefined || (i === j && a.members.length < 2)) continue;
      if (kindsOf(a.before, b.before, p0).length > 0 && !isStable(a, b, p0, p1))
        removesSessions = true;
    }
  }
  return { groups, removesSessions, changing };
}

function roleOf(node: NodeInfo): string | undefined {
  return isValidClusterId(node.routeReflectorClusterId) ? node.routeReflectorClusterId : undefined;
}

function nameOf(state: ClusterSnapshot, index: number | undefined): string {
  return index === undefined ? "" : (state.nodes[index]?.name ?? "");
}
