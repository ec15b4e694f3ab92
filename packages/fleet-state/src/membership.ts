/** What a watcher says about itself on each heartbeat. */
export interface HeartbeatOptions {
  /** Relative weight for shard assignment (for example, nodes it can watch); default unset. */
  readonly capacity?: number;
  /** How long this heartbeat keeps the watcher listed, milliseconds (a few beat intervals: the watcher uses 2.5). */
  readonly ttlMs: number;
}

/** A live watcher. */
export interface Member {
  readonly watcherId: string;
  readonly capacity?: number;
  /** Epoch milliseconds on the heartbeating process's clock. */
  readonly expiresAt: number;
}

/**
 * Port: which watchers are alive. Expiry is the heartbeating process's clock plus `ttlMs`,
 * compared with the reader's `now`: hosts must keep clocks in sync far below the TTL (NTP).
 */
export interface Membership {
  /** Lists or refreshes `watcherId` until its clock's now + `ttlMs`. Throws `Invalid` on ttlMs <= 0. */
  heartbeat(watcherId: string, options: HeartbeatOptions): Promise<void>;
  /** Members whose expiry is after `now` (epoch ms), sorted by id. */
  listMembers(now: number): Promise<Member[]>;
  /** Removes `watcherId` at once (clean shutdown), so its clusters move without waiting for the TTL. */
  leave(watcherId: string): Promise<void>;
}
