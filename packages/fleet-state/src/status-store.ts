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
  /** Lease epoch of the applier that wrote it. */
  readonly leaderEpoch?: number;
  readonly traceparent?: string;
}

/** Port: the latest status of every cluster. */
export interface StatusStore {
  /** Replaces `cluster`'s status. Throws FleetStateError `Invalid` on a bad cluster name. */
  writeStatus(cluster: string, status: ClusterStatus): Promise<void>;
  /** Every cluster's status, keyed by cluster name. Throws `Corrupt` on an unreadable entry. */
  readStatuses(): Promise<Record<string, ClusterStatus>>;
}
