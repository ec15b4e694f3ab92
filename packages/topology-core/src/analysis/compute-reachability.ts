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
  const reflectorCount = entities.findIndex((e) => e.kind === "class");
  const rrCount = reflectorCount === -1 ? n : reflectorCount;
  const clusterIdOf = (i: number): number | undefined => {
    const e = entities[i];
    return e?.kind === "reflector" ? e.clusterId : undefined;
  };
  const isClientOf = (reflector: number, peer: number): boolean =>
    clusterIdOf(peer) !== clusterIdOf(reflector);

  // Per-origin scratch state for reflectors.
  const clusterList: (readonly number[] | undefined)[] = new Array<readonly number[] | undefined>(
    rrCount,
  );
  const fromClient = new Uint8Array(rrCount);
  const sender = new Int32Array(rrCount);

  for (let origin = 0; origin < n; origin++) {
    if (down.has(origin)) continue;
    clusterList.fill(undefined);
    // Layer 0: the origin's own peers.
    let layer: number[] = [];
    for (let r = 0; r < rrCount; r++) {
      if (r === origin || down.has(r) || adjacency[origin * n + r] !== 1) continue;
      clusterList[r] = [];
      fromClient[r] = isClientOf(r, origin) ? 1 : 0;
      sender[r] = origin;
      layer.push(r);
    }
    // Layer k → k+1: reflection between reflectors.
    while (layer.length > 0) {
      const next: number[] = [];
      for (const r of layer) {
        const list = clusterList[r] ?? [];
        const rId = clusterIdOf(r) ?? 0;
        for (let m = 0; m < rrCount; m++) {
          if (m === r || m === origin || down.has(m) || adjacency[r * n + m] !== 1) continue;
          if (fromClient[r] !== 1 && !isClientOf(r, m)) continue;
          const mId = clusterIdOf(m) ?? 0;
          if (mId === rId || list.includes(mId)) continue; // cluster-list loop
          const current = clusterList[m];
          const length = list.length + 1;
          if (
            current !== undefined &&
            (current.length < length || (current.length === length && (sender[m] ?? 0) <= r))
          ) {
            continue;
          }
          if (current === undefined || current.length > length) next.push(m);
          clusterList[m] = [rId, ...list];
          fromClient[m] = isClientOf(m, r) ? 1 : 0;
          sender[m] = r;
        }
      }
      layer = [...new Set(next)].sort((a, b) => a - b);
    }
    // Receivers.
    for (let e = 0; e < n; e++) {
      if (down.has(e)) continue;
      if (e < rrCount) {
        if (e !== origin && clusterList[e] !== undefined) reach[origin * n + e] = 1;
        continue;
      }
      if (adjacency[origin * n + e] === 1) {
        reach[origin * n + e] = 1;
        continue;
      }
      for (let r = 0; r < rrCount; r++) {
        if (clusterList[r] !== undefined && adjacency[r * n + e] === 1) {
          reach[origin * n + e] = 1;
          break;
        }
      }
    }
  }
  return reach;
}
