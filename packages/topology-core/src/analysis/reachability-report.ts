import type { ClusterSnapshot } from "../model/cluster.js";
import { computeReachability } from "./compute-reachability.js";
import type { AnalysisCache } from "./peerings.js";
import { buildSessionGraph, type Entity, type SessionGraph } from "./session-graph.js";

/** A state's session graph and who learns whose routes. */
export interface RouteView {
  readonly state: ClusterSnapshot;
  readonly graph: SessionGraph;
  readonly reach: Uint8Array;
}

/** Pairs of Ready nodes (origin → receiver) that do not get each other's routes. */
export interface MissingRoutes {
  /** Ordered pairs without the route. */
  readonly pairs: number;
  /** One example, for messages. */
  readonly example?: { readonly from: string; readonly to: string };
}

/**
 * Builds the {@link RouteView} of a cluster state. `previous` (the view of the state this one came
 * from, and the indexes of the nodes that changed) lets unchanged nodes keep their signatures.
 */
export function viewRoutes(
  state: ClusterSnapshot,
  cache?: AnalysisCache,
  previous?: { readonly view: RouteView; readonly changed: { has(index: number): boolean } },
): RouteView {
  const graph = buildSessionGraph(state, {
    ...(cache === undefined ? {} : { cache }),
    ...(previous === undefined
      ? {}
      : { previous: { graph: previous.view.graph, changed: previous.changed } }),
  });
  return { state, graph, reach: computeReachability(graph) };
}

/** Which ordered pairs of up nodes lack a route (ignoring entities in `down`). */
export function findMissingRoutes(
  view: RouteView,
  down: ReadonlySet<number> = new Set(),
): MissingRoutes {
  const { entities } = view.graph;
  const n = entities.length;
  let pairs = 0;
  let example: { from: string; to: string } | undefined;
  for (let o = 0; o < n; o++) {
    if (down.has(o)) continue;
    const origin = entities[o];
    if (origin === undefined) continue;
    for (let e = 0; e < n; e++) {
      if (down.has(e) || view.reach[o * n + e] === 1) continue;
      const receiver = entities[e];
      if (receiver === undefined) continue;
      const count = o === e ? origin.size * (origin.size - 1) : origin.size * receiver.size;
      if (count === 0) continue;
      pairs += count;
      example ??= {
        from: firstMember(origin),
        to: o === e ? secondMember(origin) : firstMember(receiver),
      };
    }
  }
  return example === undefined ? { pairs } : { pairs, example };
}

/**
 * Routes that `before` had and `after` lacks, over the nodes up in both (matched by name, so the
 * states may differ in nodes, as an observer's successive snapshots do). Nodes are grouped by
 * their (before, after) entity pair, so the comparison costs classes², not nodes².
 */
export function findLostRoutes(before: RouteView, after: RouteView): MissingRoutes {
  const groups = new Map<number, { b: number; a: number; members: number[] }>();
  const nb = before.graph.entities.length;
  const beforeNodes = before.state.nodes;
  const afterNodes = after.state.nodes;
  // A plan's states keep the observed nodes in order; anything else is matched by name.
  let aligned = beforeNodes.length === afterNodes.length;
  for (let i = 0; aligned && i < beforeNodes.length; i++)
    aligned = beforeNodes[i]?.name === afterNodes[i]?.name;
  let afterIndex: Map<string, number> | undefined;
  if (!aligned) {
    afterIndex = new Map();
    for (let j = 0; j < afterNodes.length; j++) afterIndex.set(afterNodes[j]?.name ?? "", j);
  }
  for (let i = 0; i < beforeNodes.length; i++) {
    const b = before.graph.entityOfIndex[i] ?? -1;
    const j = afterIndex === undefined ? i : (afterIndex.get(beforeNodes[i]?.name ?? "") ?? -1);
    const a = j < 0 ? -1 : (after.graph.entityOfIndex[j] ?? -1);
    if (a < 0 || b < 0) continue;
    const id = a * nb + b;
    const group = groups.get(id);
    if (group === undefined) groups.set(id, { b, a, members: [j] });
    else group.members.push(j);
  }
  const list = [...groups.values()];
  const na = after.graph.entities.length;
  let pairs = 0;
  let example: { from: string; to: string } | undefined;
  for (const p of list) {
    for (const q of list) {
      const pairCount =
        p === q ? p.members.length * (p.members.length - 1) : p.members.length * q.members.length;
      if (pairCount === 0) continue;
      const had = before.reach[p.b * nb + q.b] === 1;
      const has = after.reach[p.a * na + q.a] === 1;
      if (!had || has) continue;
      pairs += pairCount;
      const nameOf = (index: number | undefined) =>
        index === undefined ? "" : (after.state.nodes[index]?.name ?? "");
      example ??= { from: nameOf(p.members[0]), to: nameOf(p === q ? p.members[1] : q.members[0]) };
    }
  }
  return example === undefined ? { pairs } : { pairs, example };
}

/** Reflectors whose loss alone would leave some pair of up nodes without a route. */
export function findFragileReflectors(view: RouteView): string[] {
  const fragile: string[] = [];
  view.graph.entities.forEach((entity, index) => {
    if (entity.kind !== "reflector") return;
    const down = new Set([index]);
    if (
      findMissingRoutes({ ...view, reach: computeReachability(view.graph, down) }, down).pairs > 0
    ) {
      fragile.push(entity.node);
    }
  });
  return fragile;
}

/** Distinct node pairs with a BGP session in `graph` (build it with `includeNotReady` to count configured ones). */
export function countSessions(graph: SessionGraph): number {
  const n = graph.entities.length;
  let sessions = 0;
  for (let i = 0; i < n; i++) {
    const a = graph.entities[i];
    if (a === undefined) continue;
    if (graph.adjacency[i * n + i] === 1) sessions += (a.size * (a.size - 1)) / 2;
    for (let j = i + 1; j < n; j++) {
      const b = graph.entities[j];
      if (b !== undefined && graph.adjacency[i * n + j] === 1) sessions += a.size * b.size;
    }
  }
  return sessions;
}

function firstMember(entity: Entity): string {
  return entity.kind === "reflector" ? entity.node : (entity.members[0] ?? "");
}

function secondMember(entity: Entity): string {
  return entity.kind === "reflector" ? entity.node : (entity.members[1] ?? "");
}
