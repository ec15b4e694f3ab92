import type { ClusterSnapshot } from "../model/cluster.js";
import { keyOfPeerLabel, REFLECTOR_LABEL } from "../model/names.js";
import { compareStrings } from "../model/order.js";

/**
 * Client → its reflectors' node names (sorted, joined with ","), read from the labels rrfleet
 * wrote. Nodes without client labels are absent. For churn measurements in tests and benchmarks.
 */
export function readAssignment(state: ClusterSnapshot): Map<string, string> {
  const holder = new Map<string, string>();
  for (const node of state.nodes) {
    const key = node.labels[REFLECTOR_LABEL];
    if (key !== undefined) holder.set(key, node.name);
  }
  const result = new Map<string, string>();
  for (const node of state.nodes) {
    const reflectors: string[] = [];
    for (const label of Object.keys(node.labels)) {
      const key = keyOfPeerLabel(label);
      if (key !== undefined) reflectors.push(holder.get(key) ?? `?${key}`);
    }
    if (reflectors.length > 0) result.set(node.name, reflectors.sort(compareStrings).join(","));
  }
  return result;
}

/** How many clients present in both assignments (and not in `exclude`) peer with other reflectors. */
export function countMovedClients(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
  exclude: ReadonlySet<string> = new Set(),
): number {
  let moved = 0;
  for (const [client, reflectors] of before) {
    if (exclude.has(client)) continue;
    const now = after.get(client);
    if (now !== undefined && now !== reflectors) moved++;
  }
  return moved;
}
