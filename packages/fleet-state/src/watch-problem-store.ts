/**
 * Why a watcher cannot watch a cluster it owns (connection refused, 403, …), reported by the
 * watcher and read by the leader, which has no snapshot of that cluster to plan from and so
 * writes this reason into the cluster's status instead (`rrctl status`, the status page).
 */
export interface WatchProblem {
  readonly watcher: string;
  /** Stable PascalCase reason: the error's code (`Unavailable`, `Forbidden`, …). */
  readonly reason: string;
  /** The error's message, e.g. `… cannot reach the API server (ECONNREFUSED …)`. */
  readonly message: string;
  /** Failed attempts in a row. */
  readonly attempts: number;
  /** Epoch ms on the watcher's clock of the latest failed attempt. */
  readonly at: number;
}

/** Port: the last watch problem of each cluster. */
export interface WatchProblemStore {
  /**
   * Records `problem` for `cluster` for `ttlMs` (longer than the watcher's longest retry delay,
   * so it outlives retries but not a watcher that stopped reporting). Throws `Invalid` on a bad
   * cluster name or ttlMs <= 0.
   */
  reportWatchProblem(cluster: string, problem: WatchProblem, ttlMs: number): Promise<void>;
  /** Forgets `cluster`'s problem (its watch started). */
  clearWatchProblem(cluster: string): Promise<void>;
  /** `cluster`'s problem, or undefined when none is recorded or it expired. Throws `Corrupt` on an unreadable entry. */
  readWatchProblem(cluster: string): Promise<WatchProblem | undefined>;
}
