/** Why and from which trace a cluster needs planning. */
export interface DirtyMark {
  /** Stable PascalCase reason: `SnapshotChanged`, `PolicyChanged`, `Resync`, `Retry`. */
  readonly reason: string;
  /** W3C traceparent of the event that caused the mark. */
  readonly traceparent?: string;
}

/** One cluster taken from the queue: all marks since it was last acknowledged, coalesced. */
export interface DirtyEntry {
  readonly cluster: string;
  /** Reason of the latest mark. */
  readonly reason: string;
  /** traceparent of the latest mark that carried one. */
  readonly traceparent?: string;
  /** How many marks were coalesced into this entry. */
  readonly marks: number;
  /** First and latest mark, epoch milliseconds on the store's clock. */
  readonly firstMarkedAt: number;
  readonly lastMarkedAt: number;
  /** Identifies the latest mark; {@link DirtyQueue.ackDirty} compares it. */
  readonly generation: number;
  /** How many times this entry was handed out, this time included (> 1 after a redelivery). */
  readonly deliveries: number;
}

/**
 * Port: clusters that need planning, at least once. Marks coalesce: a cluster is in the queue
 * once however often it is marked. A taken entry is invisible to other takers for the visibility
 * timeout; if its taker does not acknowledge it in time (it died mid-plan), it is delivered
 * again. A mark that arrives while an entry is taken is not lost: the ack sees a newer
 * generation and puts the cluster back at once.
 */
export interface DirtyQueue {
  /** Marks `cluster` dirty. Throws FleetStateError `Invalid` on a bad cluster name. */
  markDirty(cluster: string, mark: DirtyMark): Promise<void>;
  /**
   * Takes up to `max` due clusters, oldest first, waiting up to the store's take timeout for
   * one to become due; resolves `[]` when none did. Rejects with the signal's reason when
   * `signal` aborts.
   */
  takeDirty(max: number, signal?: AbortSignal): Promise<DirtyEntry[]>;
  /**
   * Acknowledges a taken entry after planning it. Resolves true when the entry was removed;
   * false when the cluster was marked again since it was taken (it is due again at once) or is
   * no longer queued.
   */
  ackDirty(entry: Pick<DirtyEntry, "cluster" | "generation">): Promise<boolean>;
  /**
   * Makes every taken entry due again now and resolves how many there were. For a new leader at
   * takeover only: its predecessor's taken entries would otherwise wait out their visibility
   * timeout (the predecessor is gone or fenced, so nobody will ack them).
   */
  requeueTaken(): Promise<number>;
  /** Clusters in the queue now, due or taken (the dirty-queue-depth metric). */
  countDirty(): Promise<number>;
}
