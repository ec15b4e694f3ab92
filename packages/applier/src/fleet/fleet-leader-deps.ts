/**
 * The types shared by the fleet leader's modules: what it is given (clusters, how to open them,
 * the shared state, telemetry, tuning) and how a leadership term ends. Types only.
 */
import type { Tracer } from "@opentelemetry/api";
import type { Policy } from "@rrfleet/topology-core";
import type { ClusterConnection, WriteFencing } from "@rrfleet/kube";
import type { Clock, ClusterStatus, FleetState } from "@rrfleet/fleet-state";
import type { ActionWriter } from "../execute-step.js";
import type { ApplierMetrics } from "../metrics.js";
import type { Backoff } from "../retry-policy.js";
import type { SessionWaiter } from "../reconcile-cluster.js";
import type { ApplierLogger } from "../applier-logger.js";
import type { FleetApplierMetrics } from "./fleet-metrics.js";
import type { SharedBucket } from "./shared-token-bucket.js";

/** A registered cluster as the leader needs it (`@rrfleet/kube`'s `RegisteredCluster` fits it). */
export interface LeaderCluster {
  readonly name: string;
  readonly fingerprint: string;
  readonly policy: Policy;
  connect(): ClusterConnection;
}

/** How the leader reaches one cluster: built once per cluster definition (fingerprint). */
export interface ClusterIo {
  /** A writer whose every write is fenced by `fencing`. */
  writer(fencing: WriteFencing): ActionWriter;
  /**
   * The session check, fenced by `fencing` too: it writes (CalicoNodeStatus objects it creates
   * and deletes), and every write of a leader is fenced the same way.
   */
  sessions(fencing: WriteFencing): SessionWaiter;
}

/** Tuning of the leader's work. */
export interface FleetLeaderSettings {
  readonly heartbeatMs: number;
  readonly clusterBucket: SharedBucket["shape"];
  readonly globalBucket: SharedBucket["shape"];
  readonly maxParallelClusters: number;
  /** Every cluster is planned at least this often without any change. */
  readonly resyncMs: number;
  readonly dryRun: boolean;
  /** How long the published snapshot may take to show the leader's writes; default 30 s. */
  readonly observeTimeoutMs?: number;
  /** Wait before checking unconfirmed sessions again; default 2 s. */
  readonly sessionRecheckMs?: number;
  /** Retry backoff of a failing cluster: full jitter, doubling; default 1 s → 60 s. */
  readonly backoff?: Backoff;
  /** [0, 1) for the backoff's jitter; default Math.random. */
  readonly random?: () => number;
}

/** Dependencies of `runFleetLeader`. */
export interface FleetLeaderDeps {
  readonly state: FleetState;
  readonly clusters: () => readonly LeaderCluster[];
  /** Connects to a cluster (detects its Calico API); may throw, retried on the next pass. */
  readonly openCluster: (cluster: LeaderCluster) => Promise<ClusterIo>;
  readonly clock: Clock;
  readonly logger: ApplierLogger & { child(bindings: object): ApplierLogger };
  readonly metrics: ApplierMetrics;
  readonly fleetMetrics: FleetApplierMetrics;
  readonly tracer: Tracer;
  readonly settings: FleetLeaderSettings;
}

/** How a leadership term ended. */
export type FleetLeaderEnd =
  /** The leadership's signal aborted (lease lost or released). */
  | { readonly kind: "LeadershipEnded" }
  /** Objects in the fleet carry an epoch ≥ ours: the lease store lost its counter. Re-campaign above it. */
  | { readonly kind: "EpochBehind"; readonly highestEpoch: number; readonly cluster: string }
  /** A write found an object written by a newer leader: someone else leads. */
  | { readonly kind: "Fenced"; readonly message: string };

/** What the leader remembers per cluster during a term: shard weights and status history. */
export interface LeaderMemory {
  /** Node counts as the last leader reported them, then as this one plans: the shard weights. */
  readonly nodeCounts: Map<string, number>;
  /** Each cluster's last status written or read: every new status carries its history. */
  readonly statusHistory: Map<string, ClusterStatus>;
}
