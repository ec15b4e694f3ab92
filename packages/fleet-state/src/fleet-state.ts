import type { DirtyQueue } from "./dirty-queue.js";
import type { LeaderLease, LeaseReader } from "./leader-lease.js";
import type { Membership } from "./membership.js";
import type { RateLimiter } from "./rate-limiter.js";
import type { ShardMapStore } from "./shard-map-store.js";
import type { SnapshotStore } from "./snapshot-store.js";
import type { StatusStore } from "./status-store.js";
import type { WatchProblemStore } from "./watch-problem-store.js";

/**
 * Every port in one object, as both implementations build it. Consumers should ask for the
 * narrow port they use (a watcher needs `SnapshotStore & Membership`), and tests pass fakes of it.
 */
export interface FleetState
  extends
    SnapshotStore,
    DirtyQueue,
    Membership,
    ShardMapStore,
    LeaderLease,
    LeaseReader,
    RateLimiter,
    StatusStore,
    WatchProblemStore {}

/** Tuning shared by both implementations. */
export interface FleetStateOptions {
  /** How long a taken dirty entry stays invisible before it is delivered again; default 60,000 ms. */
  readonly dirtyVisibilityTimeoutMs?: number;
  /** How long `takeDirty` waits for a due entry before resolving `[]`; default 5,000 ms. */
  readonly dirtyTakeTimeoutMs?: number;
}

/** Default of {@link FleetStateOptions.dirtyVisibilityTimeoutMs}. */
export const DEFAULT_DIRTY_VISIBILITY_TIMEOUT_MS = 60_000;
/** Default of {@link FleetStateOptions.dirtyTakeTimeoutMs}. */
export const DEFAULT_DIRTY_TAKE_TIMEOUT_MS = 5_000;
