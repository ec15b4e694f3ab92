/** Which watcher watches which cluster. */
export interface ShardMap {
  /** Version of the map; readers ignore a map older than one they already applied. */
  readonly epoch: number;
  /** Cluster name → watcher id. */
  readonly assignments: Readonly<Record<string, string>>;
}

/** Proof of leadership: the lease holder and the epoch {@link LeaderLease.acquireOrRenew} returned. */
export interface FencingToken {
  readonly holder: string;
  readonly epoch: number;
}

/** A shard map as stored, with the leadership that published it. */
export interface PublishedShardMap extends ShardMap {
  readonly publishedBy: string;
  /** The publisher's lease epoch. */
  readonly leaderEpoch: number;
}

/** Port: the one shard map, computed and published by the leader only. */
export interface ShardMapStore {
  /**
   * Replaces the shard map if, atomically with the write, `fencing` is the current lease
   * (same holder and epoch, not expired). Throws FleetStateError `LeaseLost` otherwise: the
   * caller is not the leader any more and must stop.
   */
  publishShardMap(map: ShardMap, fencing: FencingToken): Promise<void>;
  /** The current shard map, or undefined when none was published (or the store was flushed). */
  readShardMap(): Promise<PublishedShardMap | undefined>;
}
