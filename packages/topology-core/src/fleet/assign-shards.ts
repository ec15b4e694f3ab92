/**
 * The shard map: which live watcher watches which member cluster. The applier leader computes it
 * once and publishes it with an epoch (every replica computing its own map is how Argo CD ends up
 * with clusters nobody watches), so this module only decides; it never reads the clock.
 *
 * How a cluster finds its watcher, in order:
 * 1. Keep: a cluster stays on its previous watcher while that watcher is live and the clusters it
 *    keeps (taken in rendezvous order, best first) fit under its bound. A cluster heavier than the
 *    bound may stay only alone.
 * 2. Place (new clusters, clusters whose watcher is gone, clusters shed in step 1; heaviest
 *    first): the watcher that ranks it highest (rendezvous hashing, weighted by capacity) among
 *    those with room, preferring those that would stay under a slightly tighter bound. Clusters
 *    shed for balance go first to watchers that owned nothing before (the ones joining: a join is
 *    what lowers the bound), so a join moves clusters only onto the joiner while it has room.
 * 3. No room anywhere: onto an empty watcher if there is one (the cluster is then heavier than
 *    that watcher's bound and sits alone), else back to its previous watcher if that is live, else
 *    to the watcher it loads least (relative to capacity). An `overload` decision reports it.
 * 4. Repair: while some watcher carries several clusters above its bound and step 1 would shed one
 *    that now has room elsewhere, run again; so feeding the result back in changes nothing.
 */
import { hashString, pairWeight } from "../model/hash.js";
import { compareStrings } from "../model/order.js";

/** Argo CD's load factor for consistent hashing with bounded loads: no watcher above 1.25 × mean. */
export const DEFAULT_SHARD_LOAD_FACTOR = 1.25;

/** A member cluster to watch. `weight` is its node count (>= 1): what watching it costs. */
export interface ShardCluster {
  readonly name: string;
  readonly weight: number;
}

/** A live watcher. `capacity` is relative (default 1): a watcher of capacity 2 takes twice the load. */
export interface ShardWatcher {
  readonly id: string;
  readonly capacity?: number;
}

/** A published shard map: cluster name → watcher id, with the epoch it was published under. */
export interface ShardMap {
  readonly epoch: number;
  readonly assignments: Readonly<Record<string, string>>;
}

/** Input of {@link assignShards}. */
export interface AssignShardsInput {
  readonly clusters: readonly ShardCluster[];
  /** The live watchers (those with a recent heartbeat). */
  readonly watchers: readonly ShardWatcher[];
  /** The map in force; its assignments make the result sticky. */
  readonly previous?: ShardMap;
  /** Bound on a watcher's load as a multiple of its fair share; >= 1, default 1.25. */
  readonly loadFactor?: number;
}

/** Why a cluster stays where it was. */
export type ShardKeepReason = "Kept";

/** Why a cluster gets a (new) watcher. */
export type ShardAssignReason = "NewCluster" | "OwnerGone" | "Rebalanced";

/** Why a cluster has no watcher. */
export type ShardOrphanReason = "NoWatchers";

/** Why a cluster leaves the map. */
export type ShardReleaseReason = "ClusterRemoved";

/** Why a watcher carries more than its bound. */
export type ShardOverloadReason = "HeavierThanBound" | "NoRoomWithinBound";

/** One decision of {@link assignShards}; consumers switch on `kind`. */
export type ShardDecision =
  | {
      readonly kind: "keep";
      readonly cluster: string;
      readonly watcher: string;
      readonly reason: ShardKeepReason;
      readonly message: string;
    }
  | {
      readonly kind: "assign";
      readonly cluster: string;
      readonly watcher: string;
      /** The watcher it leaves, when it had one. */
      readonly previous?: string;
      readonly reason: ShardAssignReason;
      readonly message: string;
    }
  | {
      readonly kind: "orphan";
      readonly cluster: string;
      readonly previous?: string;
      readonly reason: ShardOrphanReason;
      readonly message: string;
    }
  | {
      readonly kind: "release";
      readonly cluster: string;
      readonly watcher: string;
      readonly reason: ShardReleaseReason;
      readonly message: string;
    }
  | {
      readonly kind: "overload";
      readonly watcher: string;
      /** Total weight (nodes) it carries, and its bound. */
      readonly load: number;
      readonly maxLoad: number;
      readonly reason: ShardOverloadReason;
      readonly message: string;
    };

/** Result of {@link assignShards}. */
export interface ShardAssignment {
  /** Cluster name → watcher id, keys in code-unit order. Empty when there are no watchers. */
  readonly assignments: Readonly<Record<string, string>>;
  /** Whether `assignments` differs from the previous map's: publish under epoch + 1 only then. */
  readonly changed: boolean;
  /** Clusters nobody watches, sorted; non-empty only when there are no watchers. Alert on them. */
  readonly orphans: readonly string[];
  /**
   * One decision per cluster (keep, assign or orphan) in name order, then one `release` per
   * cluster that left the map, then one `overload` per watcher above its bound.
   */
  readonly decisions: readonly ShardDecision[];
  /** Watcher id → total weight assigned to it (every live watcher, zeros included). */
  readonly loadByWatcher: Readonly<Record<string, number>>;
  /** Watcher id → its bound: ceil(loadFactor × total weight × capacity / total capacity). */
  readonly maxLoadByWatcher: Readonly<Record<string, number>>;
}

/**
 * Assigns member clusters to live watchers with bounded-load consistent (rendezvous) hashing
 * weighted by node count; see the module comment for the rules. Deterministic and independent of
 * the order of `clusters` and `watchers`. No watcher carries more than
 * ceil(loadFactor × total weight × capacity / total capacity) (with equal capacities,
 * ceil(loadFactor × mean)) unless a single cluster is heavier than that (it then sits alone) or
 * the weights cannot be packed under the bound (an `overload` decision says so; it cannot happen
 * while every cluster weighs at most (loadFactor − 1) × total / (watchers − 1)).
 * Runs in O(clusters × watchers).
 *
 * @throws RangeError on duplicate cluster names or watcher ids, a weight that is not a finite
 *   number >= 1, a capacity that is not a finite number > 0, or a loadFactor below 1.
 */
export function assignShards(input: AssignShardsInput): ShardAssignment {
  const loadFactor = input.loadFactor ?? DEFAULT_SHARD_LOAD_FACTOR;
  validate(input, loadFactor);
  const clusters = [...input.clusters].sort((a, b) => compareStrings(a.name, b.name));
  const watchers = [...input.watchers].sort((a, b) => compareStrings(a.id, b.id));
  const previous = input.previous?.assignments ?? {};
  const previousOwnerOf = (name: string): string | undefined =>
    Object.hasOwn(previous, name) ? previous[name] : undefined;

  const watcherIndex = new Map(watchers.map((w, i) => [w.id, i]));
  const clusterCount = clusters.length;
  const watcherCount = watchers.length;
  const weights = Float64Array.from(clusters, (c) => c.weight);
  const capacities = Float64Array.from(watchers, (w) => w.capacity ?? 1);
  const totalWeight = weights.reduce((sum, w) => sum + w, 0);
  const totalCapacity = capacities.reduce((sum, c) => sum + c, 0);
  const heaviest = weights.reduce((max, w) => Math.max(max, w), 0);
  // The hard bound, and a tighter one new placements prefer: with it, removing any one cluster
  // (or shrinking one) does not push a freshly filled watcher over the lowered hard bound.
  const maxLoad = Float64Array.from(capacities, (cap) =>
    ceilClean((loadFactor * totalWeight * cap) / totalCapacity),
  );
  const placementLoad = Float64Array.from(capacities, (cap) =>
    Math.max(
      ceilClean((totalWeight * cap) / totalCapacity),
      ceilClean((loadFactor * (totalWeight - heaviest) * cap) / totalCapacity),
    ),
  );

  const clusterHash = Uint32Array.from(clusters, (c) => hashString(c.name));
  const watcherHash = Uint32Array.from(watchers, (w) => hashString(w.id));
  const uniform = capacities.every((c) => c === capacities[0]);
  /** Rendezvous score of (cluster, watcher); higher ranks first. */
  const score = (ci: number, wi: number): number => {
    const h = pairWeight(clusterHash[ci] ?? 0, watcherHash[wi] ?? 0);
    // Weighted rendezvous: capacity / −ln(u) with u uniform in (0, 1) gives each watcher first
    // rank with probability proportional to its capacity. With equal capacities the order is
    // that of the hash itself, so skip the logarithm.
    return uniform ? h : (capacities[wi] ?? 1) / -Math.log((h + 0.5) / 4294967296);
  };

  // Owner indices: the original previous owner (-1: none, -2: gone), then each pass's result.
  const originalOwner = new Int32Array(clusterCount);
  const ownedBefore = new Uint8Array(watcherCount);
  clusters.forEach((c, ci) => {
    const id = previousOwnerOf(c.name);
    const wi = id === undefined ? -1 : (watcherIndex.get(id) ?? -2);
    originalOwner[ci] = wi;
    if (wi >= 0) ownedBefore[wi] = 1;
  });

  const state = {
    owner: new Int32Array(clusterCount),
    load: new Float64Array(watcherCount),
    count: new Int32Array(watcherCount),
  };

  /** One keep-then-place pass starting from `from` (owner indices, < 0 for none). */
  const runPass = (from: Int32Array): void => {
    const { owner, load, count } = state;
    owner.fill(-1);
    load.fill(0);
    count.fill(0);
    const assign = (ci: number, wi: number): void => {
      owner[ci] = wi;
      load[wi] = (load[wi] ?? 0) + (weights[ci] ?? 0);
      count[wi] = (count[wi] ?? 0) + 1;
    };

    // 1. Keep, per watcher, in rendezvous order.
    const heldBy: number[][] = watchers.map(() => []);
    for (let ci = 0; ci < clusterCount; ci++) {
      const wi = from[ci] ?? -1;
      if (wi >= 0) heldBy[wi]?.push(ci);
    }
    heldBy.forEach((held, wi) => {
      const ranked = held
        .map((ci) => ({ ci, s: score(ci, wi) }))
        .sort((a, b) => b.s - a.s || a.ci - b.ci);
      const bound = maxLoad[wi] ?? 0;
      for (const { ci } of ranked) {
        const w = weights[ci] ?? 0;
        const fits = (load[wi] ?? 0) + w <= bound;
        const alone = (count[wi] ?? 0) === 0 && w > bound;
        if (fits || alone) assign(ci, wi);
      }
    });

    // 2 and 3. Place the rest, heaviest first (big ones pack worst), then by name.
    const pending: number[] = [];
    for (let ci = 0; ci < clusterCount; ci++) if (owner[ci] === -1) pending.push(ci);
    pending.sort((a, b) => (weights[b] ?? 0) - (weights[a] ?? 0) || a - b);
    for (const ci of pending) {
      const w = weights[ci] ?? 0;
      const before = from[ci] ?? -1;
      const shed = before >= 0; // its watcher is live: it was shed for balance
      let best = -1;
      let bestRank = 0;
      let bestScore = 0;
      let emptyBest = -1;
      let emptyScore = 0;
      for (let wi = 0; wi < watcherCount; wi++) {
        const l = load[wi] ?? 0;
        const s = score(ci, wi);
        if (l + w <= (maxLoad[wi] ?? 0)) {
          // rank: lower is better; tier (shed clusters prefer new watchers) before level.
          const tier = shed && ownedBefore[wi] === 1 ? 2 : 0;
          const rank = tier + (l + w <= (placementLoad[wi] ?? 0) ? 0 : 1);
          if (best < 0 || rank < bestRank || (rank === bestRank && s > bestScore)) {
            best = wi;
            bestRank = rank;
            bestScore = s;
          }
        } else if ((count[wi] ?? 0) === 0 && (emptyBest < 0 || s > emptyScore)) {
          emptyBest = wi;
          emptyScore = s;
        }
      }
      if (best < 0) best = emptyBest;
      if (best < 0) best = before;
      if (best < 0) best = leastLoadedFor(ci, load);
      assign(ci, best);
    }
  };

  /** The watcher whose relative load would be lowest with cluster `ci` added; ties by rank. */
  const leastLoadedFor = (ci: number, load: Float64Array): number => {
    let best = -1;
    let bestRelative = 0;
    let bestScore = 0;
    for (let wi = 0; wi < watcherCount; wi++) {
      const relative = ((load[wi] ?? 0) + (weights[ci] ?? 0)) / (capacities[wi] ?? 1);
      const s = score(ci, wi);
      if (best < 0 || relative < bestRelative || (relative === bestRelative && s > bestScore)) {
        best = wi;
        bestRelative = relative;
        bestScore = s;
      }
    }
    return best;
  };

  /** Some watcher holds several clusters above its bound: a repair pass may find room. */
  const isCrowded = (): boolean =>
    state.load.some((l, wi) => l > (maxLoad[wi] ?? 0) && (state.count[wi] ?? 0) > 1);

  if (watcherCount > 0) {
    runPass(originalOwner);
    // Each repair pass moves a cluster off a crowded watcher into room elsewhere or changes
    // nothing, so the total excess of crowded watchers falls strictly and this ends.
    for (let passes = 1; isCrowded(); passes++) {
      if (passes > clusterCount + 1) {
        throw new Error(`assignShards: no fixed point after ${passes} passes (broken invariant)`);
      }
      const last = state.owner.slice();
      runPass(last);
      if (state.owner.every((wi, ci) => wi === last[ci])) break;
    }
  }

  return summarize();

  function summarize(): ShardAssignment {
    const entries: [string, string][] = [];
    const orphans: string[] = [];
    const decisions: ShardDecision[] = [];
    clusters.forEach((cluster, ci) => {
      const name = cluster.name;
      const before = previousOwnerOf(name);
      const wi = watcherCount > 0 ? (state.owner[ci] ?? -1) : -1;
      const watcher = watchers[wi]?.id;
      if (watcher === undefined) {
        orphans.push(name);
        decisions.push({
          kind: "orphan",
          cluster: name,
          ...(before === undefined ? {} : { previous: before }),
          reason: "NoWatchers",
          message: `cluster ${name} has no watcher: no watcher is live`,
        });
        return;
      }
      entries.push([name, watcher]);
      if (before === watcher) {
        decisions.push({
          kind: "keep",
          cluster: name,
          watcher,
          reason: "Kept",
          message: `cluster ${name} stays on watcher ${watcher}`,
        });
        return;
      }
      const load = `(${cluster.weight} nodes; ${watcher} now carries ${state.load[wi] ?? 0} of at most ${maxLoad[wi] ?? 0})`;
      if (before === undefined) {
        decisions.push({
          kind: "assign",
          cluster: name,
          watcher,
          reason: "NewCluster",
          message: `new cluster ${name} goes to watcher ${watcher} ${load}`,
        });
      } else if ((originalOwner[ci] ?? -1) < 0) {
        decisions.push({
          kind: "assign",
          cluster: name,
          watcher,
          previous: before,
          reason: "OwnerGone",
          message: `cluster ${name} moves from watcher ${before}, which is gone, to ${watcher} ${load}`,
        });
      } else {
        const from = originalOwner[ci] ?? 0;
        decisions.push({
          kind: "assign",
          cluster: name,
          watcher,
          previous: before,
          reason: "Rebalanced",
          message: `cluster ${name} moves from watcher ${before} (bound ${maxLoad[from] ?? 0} nodes) to ${watcher} ${load}`,
        });
      }
    });
    const present = new Set(clusters.map((c) => c.name));
    for (const name of Object.keys(previous).sort(compareStrings)) {
      const watcher = previousOwnerOf(name);
      if (present.has(name) || watcher === undefined) continue;
      decisions.push({
        kind: "release",
        cluster: name,
        watcher,
        reason: "ClusterRemoved",
        message: `cluster ${name} left the fleet; watcher ${watcher} stops watching it`,
      });
    }
    watchers.forEach((w, wi) => {
      const load = state.load[wi] ?? 0;
      const bound = maxLoad[wi] ?? 0;
      if (watcherCount === 0 || load <= bound) return;
      const alone = (state.count[wi] ?? 0) === 1;
      decisions.push({
        kind: "overload",
        watcher: w.id,
        load,
        maxLoad: bound,
        reason: alone ? "HeavierThanBound" : "NoRoomWithinBound",
        message: alone
          ? `watcher ${w.id} carries ${load} nodes, above its bound of ${bound}, in one cluster heavier than the bound`
          : `watcher ${w.id} carries ${load} nodes, above its bound of ${bound}: the cluster weights do not pack under the bound`,
      });
    });

    const assignments = Object.fromEntries(entries);
    const previousEntries = Object.entries(previous);
    const changed =
      previousEntries.length !== entries.length ||
      entries.some(([name, watcher]) => previousOwnerOf(name) !== watcher);
    return {
      assignments,
      changed,
      orphans,
      decisions,
      loadByWatcher: Object.fromEntries(watchers.map((w, wi) => [w.id, state.load[wi] ?? 0])),
      maxLoadByWatcher: Object.fromEntries(watchers.map((w, wi) => [w.id, maxLoad[wi] ?? 0])),
    };
  }
}

function validate(input: AssignShardsInput, loadFactor: number): void {
  if (!Number.isFinite(loadFactor) || loadFactor < 1) {
    throw new RangeError(
      `assignShards: loadFactor must be a finite number >= 1, got ${loadFactor}`,
    );
  }
  const names = new Set<string>();
  for (const c of input.clusters) {
    if (names.has(c.name)) throw new RangeError(`assignShards: duplicate cluster name ${c.name}`);
    names.add(c.name);
    if (!Number.isFinite(c.weight) || c.weight < 1) {
      throw new RangeError(
        `assignShards: cluster ${c.name} has weight ${c.weight}; weights are node counts >= 1`,
      );
    }
  }
  const ids = new Set<string>();
  for (const w of input.watchers) {
    if (ids.has(w.id)) throw new RangeError(`assignShards: duplicate watcher id ${w.id}`);
    ids.add(w.id);
    const capacity = w.capacity ?? 1;
    if (!Number.isFinite(capacity) || capacity <= 0) {
      throw new RangeError(
        `assignShards: watcher ${w.id} has capacity ${capacity}; capacities are finite and > 0`,
      );
    }
  }
}

/** ceil() after rounding binary noise away (12 significant digits), as assignClients does. */
function ceilClean(value: number): number {
  return Math.ceil(Number(value.toPrecision(12)));
}
