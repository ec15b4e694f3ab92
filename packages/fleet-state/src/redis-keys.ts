import { checkName } from "./check-input.js";

/**
 * Every Redis key the fleet state uses (README.md describes each: type, TTL, writer). Keys of
 * one cluster share the `{<cluster>}` hash tag and each group a script touches atomically
 * shares one tag (`{leader}`, `{dirty}`, `{members}`), so every script stays in one slot on
 * Redis Cluster.
 */
export interface RedisKeys {
  /** HASH d (deflated snapshot), h (hash), w (watcher), o (observedAt), t (traceparent), u (unmarked change). */
  snapshot(cluster: string): string;
  /** STRING: the cluster's status as JSON. */
  status(cluster: string): string;
  /** STRING: why the cluster's watcher cannot watch it, as JSON; expires (PX). */
  watchProblem(cluster: string): string;
  /** SET: clusters that have a status. */
  readonly statusIndex: string;
  /** HASH holder, epoch; expires (PX) with the lease. */
  readonly lease: string;
  /** STRING: the last epoch issued; no TTL, so epochs never go back while Redis keeps data. */
  readonly epoch: string;
  /** STRING: the shard map as JSON. */
  readonly shardMap: string;
  /** ZSET cluster → due time (ms, Redis clock); a due time in the future means "taken". */
  readonly dirtyDue: string;
  /** HASH cluster → the coalesced marks as JSON. */
  readonly dirtyMarks: string;
  /** STRING: counter giving each mark its generation. */
  readonly dirtySequence: string;
  /** ZSET watcher id → expiry (ms, the watcher's clock). */
  readonly memberExpiry: string;
  /** HASH watcher id → details as JSON. */
  readonly memberInfo: string;
  /** HASH tokens, at (ms, Redis clock); expires once full again. */
  bucket(bucketKey: string): string;
}

/**
 * The keys under `prefix` (default layout `rrfleet:…`). Throws FleetStateError `Invalid` on a
 * prefix with `{` or `}`, and each key function on a name with them.
 */
export function createRedisKeys(prefix: string): RedisKeys {
  checkName("prefix", prefix);
  return {
    snapshot: (cluster) => clusterKey(prefix, cluster, "snapshot"),
    status: (cluster) => clusterKey(prefix, cluster, "status"),
    watchProblem: (cluster) => clusterKey(prefix, cluster, "watch-problem"),
    statusIndex: `${prefix}:{status}:clusters`,
    lease: `${prefix}:{leader}:lease`,
    epoch: `${prefix}:{leader}:epoch`,
    shardMap: `${prefix}:{leader}:shard-map`,
    dirtyDue: `${prefix}:{dirty}:due`,
    dirtyMarks: `${prefix}:{dirty}:marks`,
    dirtySequence: `${prefix}:{dirty}:sequence`,
    memberExpiry: `${prefix}:{members}:expiry`,
    memberInfo: `${prefix}:{members}:info`,
    bucket: (bucketKey) => {
      checkName("bucketKey", bucketKey);
      return `${prefix}:bucket:{${bucketKey}}`;
    },
  };
}

function clusterKey(prefix: string, cluster: string, what: string): string {
  checkName("cluster", cluster);
  return `${prefix}:cluster:{${cluster}}:${what}`;
}
