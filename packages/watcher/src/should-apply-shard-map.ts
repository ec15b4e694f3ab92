/**
 * Which shard map a watcher follows. A map is stamped with its term — the leader that published
 * it (`publishedBy`, unique per process incarnation) and that leader's lease epoch — and an
 * epoch counted within the term.
 *
 * Why not compare map epochs alone: after Redis restarts empty (or is flushed) the next leader
 * finds no map and starts again at epoch 1, and a watcher that had applied epoch 9 ignored every
 * map until the epoch climbed past 9: the clusters the new map moved were watched by nobody.
 *
 * Why not order maps by (lease epoch, map epoch) either: the lease epoch survives a flush only
 * while some applier remembers it (every client keeps the highest epoch it saw) or a cluster
 * object carries it (the fencing annotation, which a new leader campaigns above). When every
 * applier restarted after the flush and no object was ever written (a dry run, a new fleet),
 * the lease epoch starts again at 1 too, and a lexicographic order would strand the watchers
 * the same way.
 *
 * What holds instead: the store accepts a map only from the current lease holder, checked
 * atomically with the write, so the map stored now is the current term's map — a map from
 * another term than the one applied is newer, whatever its numbers. The exception is a store
 * that went back in time (restored from an older snapshot, a failover to a lagging replica):
 * then the stored map may be an older term's, and following it is wrong for at most one leader
 * period — the current leader reads that map, and rewrites it whenever its own assignment
 * differs, always under its own term and above every epoch it published. Within one term the
 * epoch only grows, so a lower one can only be a stale read and is ignored.
 */

/** What identifies a shard map's version (a `PublishedShardMap` fits it). */
export interface ShardMapVersion {
  /** The leader that published it. */
  readonly publishedBy: string;
  /** That leader's lease epoch. */
  readonly leaderEpoch: number;
  /** The map's epoch within the term. */
  readonly epoch: number;
}

/**
 * Whether a watcher that applied `applied` (undefined: none yet) should apply `candidate`: yes
 * when none was applied, when `candidate` comes from another term (see the module comment), or
 * from the same term at the same or a higher epoch.
 */
export function shouldApplyShardMap(
  applied: ShardMapVersion | undefined,
  candidate: ShardMapVersion,
): boolean {
  if (applied === undefined) return true;
  const sameTerm =
    applied.publishedBy === candidate.publishedBy && applied.leaderEpoch === candidate.leaderEpoch;
  return !sameTerm || candidate.epoch >= applied.epoch;
}
