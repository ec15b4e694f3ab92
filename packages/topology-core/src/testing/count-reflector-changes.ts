import type { ClusterSnapshot } from "../model/cluster.js";
import { isValidClusterId } from "../model/ipv4.js";
import { REFLECTOR_LABEL } from "../model/names.js";
import { findSessionPartners } from "../plan/find-session-partners.js";

/**
 * For each client (a node that is no reflector, nor labelled as one, in both states), how many
 * of its reflector sessions a step adds, removes or changes (the far end's cluster ID). The
 * planner promises at most one while the mesh is off.
 */
export function countReflectorChanges(
  before: ClusterSnapshot,
  after: ClusterSnapshot,
): Map<string, number> {
  const isReflector = (state: ClusterSnapshot, name: string) => {
    const node = state.nodes.find((n) => n.name === name);
    return (
      node !== undefined &&
      (isValidClusterId(node.routeReflectorClusterId) || node.labels[REFLECTOR_LABEL] !== undefined)
    );
  };
  const sessions = (state: ClusterSnapshot) => {
    const reflectors = state.nodes
      .filter((n) => isValidClusterId(n.routeReflectorClusterId))
      .map((n) => n.name);
    const partners = findSessionPartners(state, reflectors, () => true);
    const byClient = new Map<string, Map<string, string>>();
    for (const rr of reflectors) {
      const id = state.nodes.find((n) => n.name === rr)?.routeReflectorClusterId ?? "";
      for (const client of partners.get(rr) ?? []) {
        let map = byClient.get(client);
        if (map === undefined) byClient.set(client, (map = new Map<string, string>()));
        map.set(rr, id);
      }
    }
    return byClient;
  };
  const b = sessions(before);
  const a = sessions(after);
  const changes = new Map<string, number>();
  for (const node of before.nodes) {
    if (isReflector(before, node.name) || isReflector(after, node.name)) continue;
    const was = b.get(node.name) ?? new Map<string, string>();
    const now = a.get(node.name) ?? new Map<string, string>();
    let count = 0;
    for (const rr of new Set([...was.keys(), ...now.keys()]))
      if (was.get(rr) !== now.get(rr)) count++;
    changes.set(node.name, count);
  }
  return changes;
}
