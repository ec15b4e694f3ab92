import { assignShards } from "@rrfleet/topology-core";
import type { Leadership } from "./leader-election.js";
import type { FleetLeaderDeps } from "./fleet-leader-deps.js";

/** What the shard-map loop remembers within one leadership term. */
export interface ShardMapTermState {
  /** The orphans logged last: each change of the set is logged once, not every period. */
  lastOrphans: string;
  /**
   * The highest map epoch this term published. Every map of the term goes above it, so the
   * watchers (which order maps of one term by epoch) never take a new map for a stale one, even
   * when the stored map went back (a store restored from an older snapshot).
   */
  lastPublishedEpoch: number;
}

/**
 * One shard-map period of the leader: assigns the registered clusters to the live watchers
 * (bounded-load rendezvous hashing weighted by `nodeCounts`, sticky to the stored map), reports
 * watchers and orphans in metrics and logs, and publishes the map under the lease when it
 * changed or none is stored. Throws on a store failure, and KubeError `Fenced` when the
 * leadership is over (nothing is published then).
 */
export async function publishShardMap(
  deps: FleetLeaderDeps,
  leadership: Leadership,
  nodeCounts: ReadonlyMap<string, number>,
  term: ShardMapTermState,
): Promise<void> {
  const { state, clock, logger, fleetMetrics } = deps;
  const [members, previous] = await Promise.all([
    state.listMembers(clock.now()),
    state.readShardMap(),
  ]);
  const clusters = deps.clusters().map((cluster) => ({
    name: cluster.name,
    weight: Math.max(1, nodeCounts.get(cluster.name) ?? 1),
  }));
  const result = assignShards({
    clusters,
    watchers: members.map((m) => ({
      id: m.watcherId,
      ...(m.capacity === undefined ? {} : { capacity: m.capacity }),
    })),
    ...(previous === undefined ? {} : { previous }),
  });
  fleetMetrics.watchersAlive.set(members.length);
  fleetMetrics.orphanedClusters.set(result.orphans.length);
  const orphans = result.orphans.join(",");
  if (orphans !== term.lastOrphans && result.orphans.length > 0) {
    logger.error(
      { orphans: result.orphans.slice(0, 20), count: result.orphans.length },
      "clusters owned by no watcher: no live watchers",
    );
  }
  term.lastOrphans = orphans;
  for (const decision of result.decisions) {
    if (decision.kind === "assign" || decision.kind === "overload") {
      logger.info({ decision: decision.kind, reason: decision.reason }, decision.message);
    }
  }
  // A flushed store has no map: publish even an unchanged assignment so watchers find one. It
  // may start again at epoch 1: watchers take a map of a new term whatever its epoch (see the
  // watcher's should-apply-shard-map.ts), and a flushed store has no lease of the old term, so
  // this map is always a new term's.
  if (!result.changed && previous !== undefined) {
    fleetMetrics.shardMapEpoch.set(previous.epoch);
    return;
  }
  const epoch = Math.max(previous?.epoch ?? 0, term.lastPublishedEpoch) + 1;
  leadership.assertCurrent();
  await state.publishShardMap(
    { epoch, assignments: result.assignments },
    { holder: leadership.holder, epoch: leadership.epoch },
  );
  term.lastPublishedEpoch = epoch;
  fleetMetrics.shardMapEpoch.set(epoch);
  logger.info(
    { shardMapEpoch: epoch, clusters: clusters.length, watchers: members.length },
    "published the shard map",
  );
}
