import type { NodeInfo } from "@rrfleet/topology-core";

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** What the earlier automation attempt produced, for comparison in the benchmark. */
export interface BaselineAssignment {
  /** Client → its reflectors joined with ",", sorted. */
  readonly byClient: ReadonlyMap<string, string>;
  /** BGPPeer objects: one per client × reflector, plus one meshing the reflectors. */
  readonly objects: number;
  readonly sessions: number;
  readonly maxLoad: number;
}

/**
 * The baseline: clients sorted by name, client i peers reflectors i mod R, (i + 1) mod R, …,
 * recomputed from scratch on every event, one BGPPeer object per client × reflector.
 */
export function planBaseline(
  nodes: readonly NodeInfo[],
  reflectors: readonly string[],
  perClient: number,
): BaselineAssignment {
  const rrs = [...reflectors].sort(compareStrings);
  const isReflector = new Set(rrs);
  const clients = nodes
    .filter((node) => !isReflector.has(node.name))
    .map((node) => node.name)
    .sort(compareStrings);
  const k = Math.min(perClient, rrs.length);
  const byClient = new Map<string, string>();
  const load = new Map<string, number>();
  clients.forEach((client, i) => {
    const chosen: string[] = [];
    for (let j = 0; j < k; j++) {
      const rr = rrs[(i + j) % rrs.length] ?? "";
      chosen.push(rr);
      load.set(rr, (load.get(rr) ?? 0) + 1);
    }
    byClient.set(client, chosen.sort(compareStrings).join(","));
  });
  const rrMesh = (rrs.length * (rrs.length - 1)) / 2;
  return {
    byClient,
    objects: clients.length * k + 1,
    sessions: clients.length * k + rrMesh,
    maxLoad: Math.max(0, ...load.values()),
  };
}
