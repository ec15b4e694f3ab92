import type { SessionGraph } from "./session-graph.js";

/**
 * Which entities learn which entities' routes, by a model of Calico's iBGP (BIRD):
 *
 * - every speaker advertises the routes it originates to all its peers;
 * - a non-reflector never re-advertises a route learned over iBGP;
 * - a reflector re-advertises only its best route (shortest cluster list, then the lowest
 *   sender): one learned from a client goes to all peers but the sender, one learned from a
 *   non-client only to clients (RFC 4456). A peer is a client when its cluster ID differs from the
 *   reflector's (Calico's rule; non-reflectors have none, so they are always clients);
 * - reflecting prepends the reflector's cluster ID; a reflector drops a route whose cluster list
 *   holds its own ID, and the originator ignores its own route.
 *
 * Best paths are found layer by layer in cluster-list length, which is exact for this
 * preference order. Entities in `down` neither originate, forward nor receive.
 *
 * Returns a matrix: reach[o * n + e] = 1 when a route originated by one member of o reaches
 * (every other member of) e. For a class, reach[o * n + o] covers its distinct members.
 */
export function computeReachability(
  graph: SessionGraph,
  down: ReadonlySet<number> = new Set(),
): Uint8Array {
  const { entities, adjacency } = graph;
  const n = entities.length;
  const reach = new Uint8Array(n * n);
  const firstClass = entities.findIndex((e) => e.kind === "class");
  const rrCount = firstClass === -1 ? n : firstClass;
  const isDown = new Uint8Array(n);
  for (const d of down) if (d >= 0 && d < n) isDown[d] = 1;

  // Cluster IDs renumbered densely, so a cluster list is a bitset (words of 32 bits) plus a length.
  const dense = new Map<number, number>();
  const idOf = new Int32Array(rrCount);
  for (let r = 0; r < rrCount; r++) {
    const e = entities[r];
    const clusterId = e?.kind === "reflector" ? e.clusterId : 0;
    let id = dense.get(clusterId);
    if (id === undefined) dense.set(clusterId, (id = dense.size));
    idOf[r] = id;
  }
  const words = Math.max(1, Math.ceil(dense.size / 32));
  const hasId = (list: Uint32Array, at: number, id: number): boolean =>
    ((list[at * words + (id >>> 5)] ?? 0) & (1 << (id & 31))) !== 0;
  /** A peer is a client of a reflector when their cluster IDs differ (non-reflectors have none). */
  const isClientOf = (reflector: number, peer: number): boolean =>
    peer >= rrCount || idOf[peer] !== idOf[reflector];

  // Per-origin scratch state for reflectors: best route's cluster list, its length (-1: none),
  // whether it came from a client, and who sent it.
  const clusterList = new Uint32Array(rrCount * words);
  const length = new Int32Array(rrCount);
  const fromClient = new Uint8Array(rrCount);
  const sender = new Int32Array(rrCount);

  for (let origin = 0; origin < n; origin++) {
    if (isDown[origin] === 1) continue;
    length.fill(-1);
    // Layer 0: the origin's own peers.
    let layer: number[] = [];
    for (let r = 0; r < rrCount; r++) {
      if (r === origin || isDown[r] === 1 || adjacency[origin * n + r] !== 1) continue;
      clusterList.fill(0, r * words, (r + 1) * words);
      length[r] = 0;
      fromClient[r] = isClientOf(r, origin) ? 1 : 0;
      sender[r] = origin;
      layer.push(r);
    }
    // Layer k → k+1: reflection between reflectors.
    for (let depth = 1; layer.length > 0; depth++) {
      const next: number[] = [];
      for (const r of layer) {
        const rId = idOf[r] ?? 0;
        for (let m = 0; m < rrCount; m++) {
          if (m === r || m === origin || isDown[m] === 1 || adjacency[r * n + m] !== 1) continue;
          if (fromClient[r] !== 1 && !isClientOf(r, m)) continue;
          const mId = idOf[m] ?? 0;
          if (mId === rId || hasId(clusterList, r, mId)) continue; // cluster-list loop
          const current = length[m] ?? -1;
          if (current !== -1 && (current < depth || (current === depth && (sender[m] ?? 0) <= r)))
            continue;
          if (current === -1) next.push(m);
          for (let w = 0; w < words; w++)
            clusterList[m * words + w] = clusterList[r * words + w] ?? 0;
          clusterList[m * words + (rId >>> 5)] =
            (clusterList[m * words + (rId >>> 5)] ?? 0) | (1 << (rId & 31));
          length[m] = depth;
          fromClient[m] = isClientOf(m, r) ? 1 : 0;
          sender[m] = r;
        }
      }
      layer = next.sort((a, b) => a - b);
    }
    // Receivers.
    for (let e = 0; e < n; e++) {
      if (isDown[e] === 1) continue;
      if (e < rrCount) {
        if (e !== origin && (length[e] ?? -1) >= 0) reach[origin * n + e] = 1;
        continue;
      }
      if (adjacency[origin * n + e] === 1) {
        reach[origin * n + e] = 1;
        continue;
      }
      for (let r = 0; r < rrCount; r++) {
        if ((length[r] ?? -1) >= 0 && adjacency[r * n + e] === 1) {
          reach[origin * n + e] = 1;
          break;
        }
      }
    }
  }
  return reach;
}
