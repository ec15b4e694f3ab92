import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { createBackgroundErrorCounter, type BackgroundErrorCounter } from "@rrfleet/telemetry";

/** The watcher's values of `rrfleet_background_errors_total{operation}` (a closed set). */
export type WatcherBackgroundOperation =
  "waitForSync" | "readShardMap" | "leave" | "reportWatchProblem" | "clearWatchProblem";

/** The watcher's Prometheus metrics (label values: cluster names and fixed words only). */
export interface WatcherMetrics {
  readonly clustersOwned: Gauge;
  readonly watchEvents: Counter<"cluster" | "resource" | "kind">;
  readonly publishes: Counter<"cluster" | "changed">;
  readonly publishErrors: Counter<"cluster">;
  readonly publishLag: Histogram;
  readonly heartbeatFailures: Counter;
  readonly watchStartErrors: Counter<"cluster">;
  /** `rrfleet_background_errors_total{operation}` (shared with an in-process applier). */
  readonly backgroundErrors: BackgroundErrorCounter;
}

/** Creates and registers {@link WatcherMetrics} on `registry`. */
export function createWatcherMetrics(registry: Registry): WatcherMetrics {
  const registers = [registry];
  return {
    clustersOwned: new Gauge({
      name: "rrfleet_watcher_clusters_owned",
      help: "Clusters this watcher watches now (hand-offs in progress included).",
      registers,
    }),
    watchEvents: new Counter({
      name: "rrfleet_watch_events_total",
      help: "Watch events by resource and kind (DROPPED: status-only updates; RELIST, RESTART: stream recoveries).",
      labelNames: ["cluster", "resource", "kind"],
      registers,
    }),
    publishes: new Counter({
      name: "rrfleet_snapshot_publishes_total",
      help: "Snapshots published to the shared state; changed=false ones only refreshed observedAt.",
      labelNames: ["cluster", "changed"],
      registers,
    }),
    publishErrors: new Counter({
      name: "rrfleet_snapshot_publish_errors_total",
      help: "Snapshot publishes that failed (Redis unreachable); retried on the next change or heartbeat.",
      labelNames: ["cluster"],
      registers,
    }),
    publishLag: new Histogram({
      name: "rrfleet_snapshot_publish_lag_seconds",
      help: "From the first watch event of a change to its snapshot stored in Redis.",
      buckets: [0.01, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30],
      registers,
    }),
    heartbeatFailures: new Counter({
      name: "rrfleet_watcher_heartbeat_failures_total",
      help: "Membership heartbeats that failed; three in a row and the leader moves this watcher's clusters.",
      registers,
    }),
    watchStartErrors: new Counter({
      name: "rrfleet_watch_start_errors_total",
      help: "Failed attempts to connect to a cluster and start watching it; retried with jittered exponential backoff (1 s to 60 s).",
      labelNames: ["cluster"],
      registers,
    }),
    backgroundErrors: createBackgroundErrorCounter(registry),
  };
}
