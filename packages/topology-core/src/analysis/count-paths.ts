import type { SessionGraph } from "./session-graph.js";

/** What {@link countPathsPerPrefix} found. */
export interface PathCount {
  /** The most paths any node holds for one other node's routes (at most `limit`). */
  readonly max: number;
  /** Whether some count reached `limit` (the real number is at least that). */
  readonly capped: boolean;
}

/**
 * How many paths to one prefix a node holds under calico-node's BGP settings, where every session
 * runs ADD-PATH (`add paths on`): a reflector stores and passes on every path it accepts, not only
 * its best one. Reflection follows RFC 4456 as in computeReachability (from a client to every peer
 * but the sender, from a non-client to clients only; a reflector drops a path whose cluster list
 * holds its own cluster ID), so a path is a chain of distinct-cluster reflectors from the origin,
 * and their number grows with the chains the reflector graph allows: about e·(R−1)! per prefix
 * when R reflectors with distinct IDs all peer each other, 2R or so in a ring. Returns the largest
 * count over (origin, receiver) pairs, counting each chain a receiver gets from each of its
 * reflector peers, up to `limit` (default 100,000) — the search stops there.
 */
export function countPathsPerPrefix(graph: SessionGraph, limit = 100_000): PathCount {
  const { entities, adjacency } = graph;
  const n = entities.length;
  const firstClass = entities.findIndex((e) => e.kind === "class");
  const rrCount = firstClass === -1 ? n : firstClass;
  const idOf = new Int32Array(rrCount);
  const dense = new Map<number, number>();
  for (let r = 0; r < rrCount; r++) {
    const e = entities[r];
    const clusterId = e?.kind === "reflector" ? e.clusterId : 0;
    let id = dense.get(clusterId);
    if (id === undefined) dense.set(clusterId, (id = dense.size));
    idOf[r] = id;
  }
  const isClientOf = (reflector: number, peer: number): boolean =>
    peer >= rrCount || idOf[peer] !== idOf[reflector];
  let max = 0;
  let capped = false;

  for (let origin = 0; origin < n; origin++) {
    // held[r]: paths reflector r stores for the origin's prefix.
    const held = new Float64Array(rrCount);
    let budget = limit;
    const usedIds = new Set<number>();
    /** `r` received a path from `sender` with the cluster IDs in `usedIds`. */
    const visit = (r: number, sender: number): void => {
      if (budget <= 0) return;
      const rId = idOf[r] ?? 0;
      if (usedIds.has(rId)) return; // cluster-list loop: dropped
      held[r] = (held[r] ?? 0) + 1;
      budget--;
      const fromClient = isClientOf(r, sender);
      usedIds.add(rId);
      for (let m = 0; m < rrCount; m++) {
        if (m === r || m === sender || m === origin || adjacency[r * n + m] !== 1) continue;
        if (!fromClient && !isClientOf(r, m)) continue;
        visit(m, r);
      }
      usedIds.delete(rId);
    };
    for (let r = 0; r < rrCount; r++) {
      if (r !== origin && adjacency[origin * n + r] === 1) visit(r, origin);
    }
    if (budget <= 0) capped = true;
    // Receivers: a reflector holds its own count; any node gets every path of each reflector peer
    // (all of them, ADD-PATH), plus one directly from the origin when they peer.
    for (let e = 0; e < n; e++) {
      if (e === origin && (entities[e]?.size ?? 1) < 2) continue;
      let paths = e < rrCount ? (held[e] ?? 0) : adjacency[origin * n + e] === 1 ? 1 : 0;
      if (e >= rrCount)
        for (let r = 0; r < rrCount; r++) if (adjacency[r * n + e] === 1) paths += held[r] ?? 0;
      if (paths > max) max = paths;
    }
  }
  // A search cut short means at least `limit` paths somewhere.
  return capped || max >= limit ? { max: limit, capped: true } : { max, capped: false };
}

/** A designed reflector, as far as paths are concerned. */
export interface PathReflector {
  readonly zone: string;
  /** IPv4 cluster ID as a number (equal numbers share an ID). */
  readonly clusterId: number;
}

/**
 * The paths per prefix a topology design gives in the worst case, from the design alone (so the
 * answer does not depend on the state a cluster starts from): the reflectors peer each other as
 * rrfleet renders them (all with all), and an origin client and a receiving client each peer the
 * reflectors their topology gives a client — every reflector (`single`), `reflectorsPerNode` of
 * them (`multi`, symmetric, so which ones does not matter), or their zone's and one other zone's
 * (`zoned`, every pair of zones tried). Returns the largest count ({@link countPathsPerPrefix}).
 */
export function estimatePathsPerPrefix(
  reflectors: readonly PathReflector[],
  topology: "single" | "multi" | "zoned",
  reflectorsPerNode: number,
  limit = 100_000,
): number {
  const r = reflectors.length;
  if (r === 0) return 0;
  const all = Array.from({ length: r }, (_, i) => i);
  const zones = [...new Set(reflectors.map((x) => x.zone))];
  const ofZone = (zone: string) => all.filter((i) => reflectors[i]?.zone === zone);
  /** The reflector sets a client may peer with. */
  const clientSets: number[][] =
    topology === "single"
      ? [all]
      : topology === "multi"
        ? [
            all.slice(0, Math.min(reflectorsPerNode, r)),
            all.slice(Math.max(0, r - reflectorsPerNode)),
          ]
        : zones.flatMap((home) =>
            zones.length === 1
              ? [ofZone(home)]
              : zones
                  .filter((z) => z !== home)
                  .map((remote) => [...ofZone(home), ...ofZone(remote)]),
          );
  let worst = 0;
  for (const origin of clientSets) {
    for (const receiver of clientSets) {
      const n = r + 2;
      const adjacency = new Uint8Array(n * n);
      const link = (a: number, b: number) => {
        adjacency[a * n + b] = 1;
        adjacency[b * n + a] = 1;
      };
      for (let a = 0; a < r; a++) for (let b = a + 1; b < r; b++) link(a, b);
      for (const i of origin) link(r, i);
      for (const i of receiver) link(r + 1, i);
      const graph: SessionGraph = {
        entities: [
          ...reflectors.map((x, i) => ({
            kind: "reflector" as const,
            node: `r${i}`,
            clusterId: x.clusterId,
            size: 1 as const,
          })),
          { kind: "class" as const, members: ["origin"], size: 1 },
          { kind: "class" as const, members: ["receiver"], size: 1 },
        ],
        adjacency,
        entityOfIndex: new Int32Array(0),
        signatureOfIndex: [],
        peeringFingerprint: "",
        peeringIds: [],
      };
      worst = Math.max(worst, countPathsPerPrefix(graph, limit).max);
    }
  }
  return worst;
}
