/** Where a cluster stands, as the applier last reported it (`rrctl status`). */
export interface ClusterStatus {
  readonly phase: "Converged" | "Progressing" | "Blocked" | "Failing";
  /** Stable PascalCase reason, as in logs and metrics. */
  readonly reason: string;
  /** One line for people. */
  readonly message: string;
  /** Epoch milliseconds on the writer's clock. */
  readonly updatedAt: number;
  readonly nodes?: number;
  readonly reflectors?: number;
  readonly pendingSteps?: number;
  /** Writes the plan still holds (all its steps), as of `updatedAt`. */
  readonly pendingActions?: number;
  /** The last step the applier applied to this cluster (kept across later statuses). */
  readonly lastStep?: StatusEvent;
  /** Passes that failed in a row; absent or 0 once a pass succeeds. */
  readonly failures?: number;
  /** The last failed pass: `reason` is its error code (kept across later statuses). */
  readonly lastError?: StatusEvent;
  /** While `phase` is Converged: when this converged run began, epoch ms. */
  readonly convergedSince?: number;
  /** The last time a pass found the cluster converged, epoch ms (kept across later statuses). */
  readonly lastConvergedAt?: number;
  /** Lease epoch of the applier that wrote it. */
  readonly leaderEpoch?: number;
  readonly traceparent?: string;
}

/** Something that happened to a cluster, for people: a step applied, a pass that failed. */
export interface StatusEvent {
  /** Stable PascalCase reason (a step's reason, or an error code). */
  readonly reason: string;
  readonly message: string;
  /** Epoch milliseconds on the writer's clock. */
  readonly at: number;
}

/** Port: the latest status of every cluster. */
export interface StatusStore {
  /** Replaces `cluster`'s status. Throws FleetStateError `Invalid` on a bad cluster name. */
  writeStatus(cluster: string, status: ClusterStatus): Promise<void>;
  /** Every cluster's status, keyed by cluster name. Throws `Corrupt` on an unreadable entry. */
  readStatuses(): Promise<Record<string, ClusterStatus>>;
}
