import type { ClusterSnapshot } from "@rrfleet/topology-core";

/** Who published a snapshot and when it was observed. */
export interface SnapshotMeta {
  /** The publishing watcher's id. */
  readonly watcher: string;
  /** When the watcher's view was current, epoch milliseconds (its clock). */
  readonly observedAt: number;
  /** W3C traceparent of the change, carried so the applier's writes join the watcher's trace. */
  readonly traceparent?: string;
}

/** What a publish did. */
export interface PublishSnapshotResult {
  /**
   * True when the content differs from what was stored (or an earlier change was stored but
   * never marked dirty): the cluster was marked dirty (reason `SnapshotChanged`). False for an
   * unchanged publish, which only refreshes `watcher` and `observedAt`.
   */
  readonly changed: boolean;
  /** Hex SHA-256 of the encoded content. */
  readonly hash: string;
  /** Size of the stored (encoded, deflated) snapshot in bytes. */
  readonly bytes: number;
}

/** A stored snapshot as read back. */
export interface StoredSnapshot {
  /** Nodes and BGPPeers come back sorted by name. */
  readonly snapshot: ClusterSnapshot;
  readonly hash: string;
  /** `traceparent` is the one of the last change, not of later unchanged publishes. */
  readonly meta: SnapshotMeta;
  readonly bytes: number;
}

/** Port: the latest projected snapshot of each cluster, published by its watcher. */
export interface SnapshotStore {
  /**
   * Stores `snapshot` as the cluster's latest, compared by content hash: an unchanged publish
   * is not a change and does not mark the cluster dirty. Throws FleetStateError (`Invalid` on a
   * cluster name that is empty or holds `{`/`}`; `Unavailable` when the store is unreachable).
   */
  publishSnapshot(
    cluster: string,
    snapshot: ClusterSnapshot,
    meta: SnapshotMeta,
  ): Promise<PublishSnapshotResult>;
  /** The cluster's latest snapshot, or undefined when none is stored. Throws `Corrupt` on unreadable data. */
  readSnapshot(cluster: string): Promise<StoredSnapshot | undefined>;
}
