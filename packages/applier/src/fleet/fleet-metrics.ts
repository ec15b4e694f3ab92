import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { createBackgroundErrorCounter, type BackgroundErrorCounter } from "@rrfleet/telemetry";

/**
 * The fleet applier's own metrics (the per-cluster reconcile metrics are {@link ApplierMetrics}).
 * Alert on `rrfleet_orphaned_clusters > 0` (clusters nobody watches) and on no applier reporting
 * `rrfleet_leader == 1` for longer than a lease.
 */
export interface FleetApplierMetrics {
  readonly leader: Gauge<"applier">;
  readonly leaderEpoch: Gauge;
  readonly leaderTransitions: Counter<"reason">;
  readonly dirtyQueueDepth: Gauge;
  readonly orphanedClusters: Gauge;
  readonly shardMapEpoch: Gauge;
  readonly watchersAlive: Gauge;
  readonly nodeEventToWrite: Histogram<"cluster">;
  readonly passes: Counter<"outcome">;
  /** `rrfleet_background_errors_total{operation}` (shared with an in-process watcher). */
  readonly backgroundErrors: BackgroundErrorCounter;
}

/** Creates and registers {@link FleetApplierMetrics} on `registry`. */
export function createFleetApplierMetrics(registry: Registry): FleetApplierMetrics {
  const registers = [registry];
  return {
    leader: new Gauge({
      name: "rrfleet_leader",
      help: "1 while this applier holds the leader lease and acts, 0 as a standby.",
      labelNames: ["applier"],
      registers,
    }),
    leaderEpoch: new Gauge({
      name: "rrfleet_leader_epoch",
      help: "Fencing epoch of the current leader as this applier last saw it.",
      registers,
    }),
    leaderTransitions: new Counter({
      name: "rrfleet_leader_transitions_total",
      help: "Times this applier became leader (Acquired) or stopped leading (RenewDeadlineExceeded, HeldByOther, Released, EpochBehind).",
      labelNames: ["reason"],
      registers,
    }),
    dirtyQueueDepth: new Gauge({
      name: "rrfleet_dirty_queue_depth",
      help: "Clusters waiting to be planned (due or being planned), as the leader last counted.",
      registers,
    }),
    orphanedClusters: new Gauge({
      name: "rrfleet_orphaned_clusters",
      help: "Registered clusters the published shard map gives to no watcher (no live watchers).",
      registers,
    }),
    shardMapEpoch: new Gauge({
      name: "rrfleet_shard_map_epoch",
      help: "Epoch of the shard map the leader last published or read.",
      registers,
    }),
    watchersAlive: new Gauge({
      name: "rrfleet_watchers_alive",
      help: "Watchers with a current heartbeat, as the leader last listed them.",
      registers,
    }),
    nodeEventToWrite: new Histogram({
      name: "rrfleet_node_event_to_write_seconds",
      help: "From the first change a watcher published (dirty mark) to the first write the leader made for it.",
      labelNames: ["cluster"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers,
    }),
    passes: new Counter({
      name: "rrfleet_fleet_passes_total",
      help: "Dirty clusters the leader handled, by outcome (reconcile outcome kinds, NoSnapshot, WatchFailing: no snapshot and its watcher reports why, Unregistered, Failed).",
      labelNames: ["outcome"],
      registers,
    }),
    backgroundErrors: createBackgroundErrorCounter(registry),
  };
}
