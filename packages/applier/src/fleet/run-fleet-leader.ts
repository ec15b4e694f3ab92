/**
 * What the fleet applier does while it holds the lease (see DESIGN.md "Fleet mode"):
 *
 *   takeover: read every snapshot → highest fencing epoch in the fleet ≥ ours? → give the lease
 *             back and campaign above it; else mark every cluster dirty (full resync)
 *             (take-over-fleet.ts)
 *   shard map: every quarter heartbeat, assign registered clusters to live watchers and publish
 *             under the lease; report orphans (publish-shard-map.ts)
 *   drain:     N loops take dirty clusters (drain-dirty-clusters.ts) and hand each to the
 *             cluster worker (create-cluster-worker.ts): plan, apply one fenced step, status
 *
 * This module only composes them. Everything stops when the leadership's signal aborts; a write
 * never leaves after that (the writers ask `assertCurrent` before each request).
 */
import type { Leadership } from "./leader-election.js";
import type { FleetLeaderDeps, FleetLeaderEnd } from "./fleet-leader-deps.js";
import { takeOverFleet } from "./take-over-fleet.js";
import { publishShardMap } from "./publish-shard-map.js";
import { runEvery } from "./run-every.js";
import { drainDirtyClusters } from "./drain-dirty-clusters.js";
import { createClusterWorker } from "./create-cluster-worker.js";
import {
  reportBackgroundError,
  type LeaderBackgroundOperation,
} from "./report-background-error.js";

/**
 * Runs one leadership term (see the module comment) until the leadership ends or `signal`
 * aborts. Never throws for a cluster's failure: each is retried with backoff.
 */
export async function runFleetLeader(
  deps: FleetLeaderDeps,
  leadership: Leadership,
  signal: AbortSignal,
): Promise<FleetLeaderEnd> {
  const { state, clock, fleetMetrics } = deps;
  const stop = new AbortController();
  const stopSignal = AbortSignal.any([signal, leadership.signal, stop.signal]);
  let end: FleetLeaderEnd = { kind: "LeadershipEnded" };
  const finish = (reason: FleetLeaderEnd): void => {
    if (stop.signal.aborted) return;
    end = reason;
    stop.abort();
  };

  const takeover = await takeOverFleet(deps, leadership);
  if (takeover.kind === "EpochBehind") {
    const { highestEpoch, cluster } = takeover;
    return { kind: "EpochBehind", highestEpoch, cluster };
  }
  const { memory } = takeover;
  const worker = createClusterWorker(deps, leadership, finish, memory);
  const shardMapTerm = { lastOrphans: "", lastPublishedEpoch: 0 };
  const logFailure =
    (operation: LeaderBackgroundOperation, what: string) =>
    (err: unknown): void => {
      reportBackgroundError(deps, operation, err, `${what} failed; trying again next period`);
    };
  const loops = [
    // A quarter heartbeat: a dead watcher's clusters move soon after its membership expires.
    runEvery(
      clock,
      deps.settings.heartbeatMs / 4,
      stopSignal,
      () => publishShardMap(deps, leadership, memory.nodeCounts, shardMapTerm),
      { onError: logFailure("publishShardMap", "publishing the shard map") },
    ),
    runEvery(
      clock,
      deps.settings.heartbeatMs,
      stopSignal,
      async () => {
        fleetMetrics.dirtyQueueDepth.set(await state.countDirty());
      },
      { onError: logFailure("countDirty", "counting dirty clusters") },
    ),
    runEvery(
      clock,
      deps.settings.resyncMs,
      stopSignal,
      async () => {
        for (const cluster of deps.clusters()) {
          await state.markDirty(cluster.name, { reason: "Resync" });
        }
      },
      { skipFirst: true, onError: logFailure("resync", "the periodic resync") },
    ),
    ...Array.from({ length: deps.settings.maxParallelClusters }, () =>
      drainDirtyClusters(deps, worker, stopSignal),
    ),
  ];
  await Promise.all(loops);
  await worker.idle();
  return end;
}
