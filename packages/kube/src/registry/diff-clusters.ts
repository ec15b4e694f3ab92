import { compareStrings } from "@rrfleet/topology-core";
import type { RegisteredCluster } from "./registered-cluster.js";

/** What changed in the registry, each list sorted by cluster name. */
export interface RegistryChange {
  readonly added: readonly RegisteredCluster[];
  /** The versions that were removed. */
  readonly removed: readonly RegisteredCluster[];
  /** The new versions of clusters whose fingerprint changed (credentials, policy, labels, source…). */
  readonly changed: readonly RegisteredCluster[];
}

/**
 * Decides what changed between two registry states keyed by cluster name: a name only in `next`
 * is added, only in `previous` removed, in both with another fingerprint changed. Never throws.
 */
export function diffClusters(
  previous: ReadonlyMap<string, RegisteredCluster>,
  next: ReadonlyMap<string, RegisteredCluster>,
): RegistryChange {
  const added: RegisteredCluster[] = [];
  const removed: RegisteredCluster[] = [];
  const changed: RegisteredCluster[] = [];
  for (const [name, cluster] of next) {
    const before = previous.get(name);
    if (before === undefined) added.push(cluster);
    else if (before.fingerprint !== cluster.fingerprint) changed.push(cluster);
  }
  for (const [name, cluster] of previous) if (!next.has(name)) removed.push(cluster);
  return { added: byName(added), removed: byName(removed), changed: byName(changed) };
}

function byName(clusters: RegisteredCluster[]): RegisteredCluster[] {
  return clusters.sort((a, b) => compareStrings(a.name, b.name));
}
