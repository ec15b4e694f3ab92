import type { Leadership } from "./leader-election.js";
import type { FleetLeaderDeps, LeaderMemory } from "./fleet-leader-deps.js";
import { highestEpochIn } from "./highest-epoch-in.js";

/** What a takeover found. */
export type TakeoverResult =
  /** Objects carry an epoch ≥ ours: write nothing, re-campaign above `highestEpoch`. */
  | { readonly kind: "EpochBehind"; readonly highestEpoch: number; readonly cluster: string }
  /** Every cluster is marked dirty (full resync); `memory` is what the last leader left. */
  | { readonly kind: "Resynced"; readonly memory: LeaderMemory };

/**
 * The first thing a new leader does: checks that no published snapshot carries a fencing epoch
 * at or above its own (the lease store lost its counter), requeues what the previous leader had
 * taken, marks every registered cluster dirty (a full resync), and reads back the statuses the
 * previous leader wrote (shard weights and status history). Throws on a store failure.
 */
export async function takeOverFleet(
  deps: FleetLeaderDeps,
  leadership: Leadership,
): Promise<TakeoverResult> {
  const { state, logger } = deps;
  const behind = await findHighestEpoch(deps, leadership.epoch);
  if (behind !== undefined) {
    logger.error(
      { epoch: leadership.epoch, highestEpoch: behind.highestEpoch, cluster: behind.cluster },
      "objects carry a fencing epoch at or above ours (the lease store lost its counter); re-campaigning above it",
    );
    return { kind: "EpochBehind", ...behind };
  }
  const registered = deps.clusters();
  // What the previous leader had taken would stay hidden for its visibility timeout.
  const requeued = await state.requeueTaken();
  for (const cluster of registered) {
    await state.markDirty(cluster.name, { reason: "Resync" });
  }
  logger.info(
    { epoch: leadership.epoch, clusters: registered.length, requeued },
    "leading: full resync of every cluster",
  );

  // Shard weights: node counts as the last leader reported them, then as this one plans.
  // Kept in memory rather than read from every status each period (that is one Redis read of
  // the whole fleet every quarter heartbeat).
  const stored = Object.entries(await state.readStatuses());
  const nodeCounts = new Map(
    stored.flatMap(([name, status]) =>
      status.nodes === undefined ? [] : [[name, status.nodes] as const],
    ),
  );
  return { kind: "Resynced", memory: { nodeCounts, statusHistory: new Map(stored) } };
}

/**
 * The highest fencing epoch in any published snapshot when it is ≥ `epoch`. Reads 8 snapshots
 * at a time: a takeover of a large fleet should not wait for them one by one.
 */
async function findHighestEpoch(
  deps: FleetLeaderDeps,
  epoch: number,
): Promise<{ highestEpoch: number; cluster: string } | undefined> {
  let found: { highestEpoch: number; cluster: string } | undefined;
  const clusters = deps.clusters();
  for (let i = 0; i < clusters.length; i += 8) {
    const batch = clusters.slice(i, i + 8);
    const stored = await Promise.all(batch.map((c) => deps.state.readSnapshot(c.name)));
    stored.forEach((snapshot, j) => {
      if (snapshot === undefined) return;
      const highest = highestEpochIn(snapshot.snapshot);
      if (highest >= epoch && highest > (found?.highestEpoch ?? -1)) {
        found = { highestEpoch: highest, cluster: batch[j]?.name ?? "" };
      }
    });
  }
  return found;
}
