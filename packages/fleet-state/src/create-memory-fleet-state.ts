/**
 * The shared state in one process, for `rrctl run` (embedded mode) and tests. It keeps the same
 * contract as the Redis implementation (the shared contract suite runs against both): snapshots
 * are stored encoded, so reads return what Redis would; expiries and waits follow the injected
 * clock. Every operation runs without an `await` between its reads and writes, which makes it
 * atomic on the event loop the way a Lua script is in Redis.
 */
import { checkName, checkNumber } from "./check-input.js";
import { systemClock, type Clock } from "./clock.js";
import { decodeSnapshot } from "./decode-snapshot.js";
import type { DirtyEntry, DirtyMark } from "./dirty-queue.js";
import { encodeSnapshot } from "./encode-snapshot.js";
import { FleetStateError } from "./fleet-state-error.js";
import {
  DEFAULT_DIRTY_TAKE_TIMEOUT_MS,
  DEFAULT_DIRTY_VISIBILITY_TIMEOUT_MS,
  type FleetState,
  type FleetStateOptions,
} from "./fleet-state.js";
import type { Member } from "./membership.js";
import type { PublishedShardMap } from "./shard-map-store.js";
import type { SnapshotMeta } from "./snapshot-store.js";
import type { ClusterStatus } from "./status-store.js";
import type { WatchProblem } from "./watch-problem-store.js";
import { waitForDirty, type DirtyAttempt } from "./wait-for-dirty.js";

/** Data several in-process clients share, like one Redis; see {@link createMemoryFleetStore}. */
export interface MemoryFleetStore {
  /** Drops everything, the lease epoch counter included, as FLUSHALL does to Redis. */
  clear(): void;
}

/** Options of {@link createMemoryFleetState}. */
export interface MemoryFleetStateOptions extends FleetStateOptions {
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Shared data, so two clients can be told apart (tests); default a new store. */
  readonly store?: MemoryFleetStore;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface DirtyRecord {
  dueAt: number;
  entry: Mutable<DirtyEntry>;
}

interface Lease {
  readonly holder: string;
  readonly epoch: number;
  expiresAt: number;
}

interface MemoryData {
  snapshots: Map<string, { bytes: Buffer; hash: string; meta: SnapshotMeta }>;
  dirty: Map<string, DirtyRecord>;
  dirtySequence: number;
  members: Map<string, Member>;
  shardMap: PublishedShardMap | undefined;
  lease: Lease | undefined;
  epoch: number;
  buckets: Map<string, { tokens: number; at: number }>;
  statuses: Map<string, ClusterStatus>;
  watchProblems: Map<string, { readonly problem: WatchProblem; readonly expiresAt: number }>;
  /** Takers waiting for a mark; they survive `clear()` like blocked clients survive FLUSHALL. */
  readonly wakers: Set<() => void>;
}

const storeData = new WeakMap<MemoryFleetStore, MemoryData>();

/** A new, empty store to share between {@link createMemoryFleetState} clients. */
export function createMemoryFleetStore(): MemoryFleetStore {
  const data: MemoryData = { ...emptyData(), wakers: new Set() };
  const store: MemoryFleetStore = {
    clear() {
      Object.assign(data, emptyData());
    },
  };
  storeData.set(store, data);
  return store;
}

function emptyData(): Omit<MemoryData, "wakers"> {
  return {
    snapshots: new Map(),
    dirty: new Map(),
    dirtySequence: 0,
    members: new Map(),
    shardMap: undefined,
    lease: undefined,
    epoch: 0,
    buckets: new Map(),
    statuses: new Map(),
    watchProblems: new Map(),
  };
}

/**
 * A {@link FleetState} in process memory. Each call returns one client with its own memory of
 * the highest lease epoch it saw; clients built on the same `store` share everything else.
 */
export function createMemoryFleetState(options: MemoryFleetStateOptions = {}): FleetState {
  const clock = options.clock ?? systemClock;
  const visibilityMs = options.dirtyVisibilityTimeoutMs ?? DEFAULT_DIRTY_VISIBILITY_TIMEOUT_MS;
  const takeTimeoutMs = options.dirtyTakeTimeoutMs ?? DEFAULT_DIRTY_TAKE_TIMEOUT_MS;
  checkNumber("dirtyVisibilityTimeoutMs", visibilityMs, 0);
  checkNumber("dirtyTakeTimeoutMs", takeTimeoutMs, 0, true);
  const data = storeData.get(options.store ?? createMemoryFleetStore());
  if (data === undefined) throw new TypeError("store was not made by createMemoryFleetStore");
  let seenEpoch = 0;

  const markDirtyNow = (cluster: string, mark: DirtyMark): void => {
    const now = clock.now();
    const generation = ++data.dirtySequence;
    const record = data.dirty.get(cluster);
    if (record === undefined) {
      data.dirty.set(cluster, {
        dueAt: now,
        entry: {
          cluster,
          reason: mark.reason,
          ...(mark.traceparent === undefined ? {} : { traceparent: mark.traceparent }),
          marks: 1,
          firstMarkedAt: now,
          lastMarkedAt: now,
          generation,
          deliveries: 0,
        },
      });
    } else {
      const entry = record.entry;
      entry.reason = mark.reason;
      if (mark.traceparent !== undefined) entry.traceparent = mark.traceparent;
      entry.marks += 1;
      entry.lastMarkedAt = now;
      entry.generation = generation;
    }
    wakeTakers();
  };

  const wakeTakers = (): void => {
    for (const wake of [...data.wakers]) wake();
  };

  const tryTake = (max: number): DirtyAttempt => {
    const now = clock.now();
    const due = [...data.dirty.values()]
      .filter((record) => record.dueAt <= now)
      .sort((a, b) => a.dueAt - b.dueAt || compareText(a.entry.cluster, b.entry.cluster))
      .slice(0, max);
    const entries = due.map((record) => {
      record.dueAt = now + visibilityMs;
      record.entry.deliveries += 1;
      return { ...record.entry };
    });
    let nextDue = Infinity;
    for (const record of data.dirty.values()) {
      if (record.dueAt > now) nextDue = Math.min(nextDue, record.dueAt);
    }
    return { entries, nextDueInMs: nextDue === Infinity ? undefined : nextDue - now };
  };

  const liveLease = (): Lease | undefined => {
    if (data.lease !== undefined && data.lease.expiresAt <= clock.now()) data.lease = undefined;
    return data.lease;
  };

  return {
    async publishSnapshot(cluster, snapshot, meta) {
      checkName("cluster", cluster);
      await Promise.resolve(); // settle like the Redis client: never synchronously
      const encoded = encodeSnapshot(snapshot);
      const hash = encoded.hash;
      const stored = data.snapshots.get(cluster);
      if (stored?.hash === hash) {
        stored.meta = { ...stored.meta, watcher: meta.watcher, observedAt: meta.observedAt };
        return { changed: false, hash, bytes: stored.bytes.length };
      }
      const bytes = encoded.bytes;
      data.snapshots.set(cluster, { bytes, hash, meta: copyMeta(meta) });
      markDirtyNow(cluster, {
        reason: "SnapshotChanged",
        ...(meta.traceparent === undefined ? {} : { traceparent: meta.traceparent }),
      });
      return { changed: true, hash, bytes: bytes.length };
    },

    async readSnapshot(cluster) {
      checkName("cluster", cluster);
      await Promise.resolve();
      const stored = data.snapshots.get(cluster);
      if (stored === undefined) return undefined;
      return {
        snapshot: decodeSnapshot(stored.bytes),
        hash: stored.hash,
        meta: copyMeta(stored.meta),
        bytes: stored.bytes.length,
      };
    },

    async markDirty(cluster, mark) {
      checkName("cluster", cluster);
      await Promise.resolve();
      markDirtyNow(cluster, mark);
    },

    async takeDirty(max, signal) {
      checkNumber("max", max, 1, true);
      return waitForDirty(() => Promise.resolve(tryTake(Math.floor(max))), {
        clock,
        timeoutMs: takeTimeoutMs,
        subscribe: (wake) => {
          data.wakers.add(wake);
          return () => data.wakers.delete(wake);
        },
        ...(signal === undefined ? {} : { signal }),
      });
    },

    async ackDirty({ cluster, generation }) {
      checkName("cluster", cluster);
      await Promise.resolve();
      const record = data.dirty.get(cluster);
      if (record === undefined) return false;
      if (record.entry.generation === generation) {
        data.dirty.delete(cluster);
        return true;
      }
      record.dueAt = clock.now(); // marked while it was being planned: plan it again now
      wakeTakers();
      return false;
    },

    async requeueTaken() {
      await Promise.resolve();
      const now = clock.now();
      let count = 0;
      for (const record of data.dirty.values()) {
        if (record.dueAt > now) {
          record.dueAt = now;
          count += 1;
        }
      }
      if (count > 0) wakeTakers();
      return count;
    },

    async countDirty() {
      await Promise.resolve();
      return data.dirty.size;
    },

    async heartbeat(watcherId, { capacity, ttlMs }) {
      checkName("watcherId", watcherId);
      checkNumber("ttlMs", ttlMs, 0);
      if (capacity !== undefined) checkNumber("capacity", capacity, 0, true);
      await Promise.resolve();
      const now = clock.now();
      for (const [id, member] of data.members) {
        if (member.expiresAt <= now) data.members.delete(id);
      }
      data.members.set(watcherId, {
        watcherId,
        ...(capacity === undefined ? {} : { capacity }),
        expiresAt: now + Math.ceil(ttlMs),
      });
    },

    async listMembers(now) {
      await Promise.resolve();
      return [...data.members.values()]
        .filter((member) => member.expiresAt > now)
        .sort((a, b) => compareText(a.watcherId, b.watcherId))
        .map((member) => ({ ...member }));
    },

    async leave(watcherId) {
      checkName("watcherId", watcherId);
      await Promise.resolve();
      data.members.delete(watcherId);
    },

    async publishShardMap(map, fencing) {
      await Promise.resolve();
      const lease = liveLease();
      if (lease?.holder !== fencing.holder || lease.epoch !== fencing.epoch) {
        throw leaseLost(fencing.holder, fencing.epoch);
      }
      data.shardMap = {
        epoch: map.epoch,
        assignments: { ...map.assignments },
        publishedBy: fencing.holder,
        leaderEpoch: fencing.epoch,
      };
    },

    async readShardMap() {
      await Promise.resolve();
      const map = data.shardMap;
      if (map === undefined) return undefined;
      seenEpoch = Math.max(seenEpoch, map.leaderEpoch);
      return { ...map, assignments: { ...map.assignments } };
    },

    async acquireOrRenew(candidateId, ttlMs, acquireOptions = {}) {
      checkName("candidateId", candidateId);
      checkNumber("ttlMs", ttlMs, 0);
      await Promise.resolve();
      const now = clock.now();
      const ttl = Math.ceil(ttlMs);
      let lease = liveLease();
      if (lease?.holder === candidateId) {
        lease.expiresAt = now + ttl;
      } else if (lease === undefined) {
        data.epoch = Math.max(data.epoch, seenEpoch, acquireOptions.minEpoch ?? 0) + 1;
        lease = { holder: candidateId, epoch: data.epoch, expiresAt: now + ttl };
        data.lease = lease;
      }
      seenEpoch = Math.max(seenEpoch, lease.epoch);
      return {
        held: lease.holder === candidateId,
        epoch: lease.epoch,
        holder: lease.holder,
        expiresAt: lease.expiresAt,
        ttlMs: Math.max(0, lease.expiresAt - now),
      };
    },

    async readLease() {
      await Promise.resolve();
      const lease = liveLease();
      if (lease === undefined) return undefined;
      return {
        holder: lease.holder,
        epoch: lease.epoch,
        ttlMs: Math.max(0, lease.expiresAt - clock.now()),
      };
    },

    async release(candidateId, epoch) {
      checkName("candidateId", candidateId);
      await Promise.resolve();
      const lease = liveLease();
      if (lease?.holder !== candidateId || lease.epoch !== epoch) return false;
      data.lease = undefined;
      return true;
    },

    async takeTokens(bucketKey, { ratePerSecond, burst, n = 1 }) {
      checkName("bucketKey", bucketKey);
      checkNumber("ratePerSecond", ratePerSecond, 0);
      checkNumber("burst", burst, 1, true);
      checkNumber("n", n, 0);
      await Promise.resolve();
      const now = clock.now();
      const bucket = data.buckets.get(bucketKey) ?? { tokens: burst, at: now };
      const refilled = bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * ratePerSecond;
      const tokens = Math.min(burst, refilled) - n;
      data.buckets.set(bucketKey, { tokens, at: now });
      return tokens >= 0 ? 0 : Math.ceil((-tokens / ratePerSecond) * 1000);
    },

    async writeStatus(cluster, status) {
      checkName("cluster", cluster);
      await Promise.resolve();
      data.statuses.set(cluster, { ...status });
    },

    async reportWatchProblem(cluster, problem, ttlMs) {
      checkName("cluster", cluster);
      checkNumber("ttlMs", ttlMs, 0);
      await Promise.resolve();
      data.watchProblems.set(cluster, {
        problem: { ...problem },
        expiresAt: clock.now() + Math.ceil(ttlMs),
      });
    },

    async clearWatchProblem(cluster) {
      checkName("cluster", cluster);
      await Promise.resolve();
      data.watchProblems.delete(cluster);
    },

    async readWatchProblem(cluster) {
      checkName("cluster", cluster);
      await Promise.resolve();
      const entry = data.watchProblems.get(cluster);
      if (entry === undefined || entry.expiresAt <= clock.now()) return undefined;
      return { ...entry.problem };
    },

    async readStatuses() {
      await Promise.resolve();
      const statuses: Record<string, ClusterStatus> = {};
      for (const cluster of [...data.statuses.keys()].sort(compareText)) {
        statuses[cluster] = { ...(data.statuses.get(cluster) as ClusterStatus) };
      }
      return statuses;
    },
  };
}

function copyMeta(meta: SnapshotMeta): SnapshotMeta {
  return {
    watcher: meta.watcher,
    observedAt: meta.observedAt,
    ...(meta.traceparent === undefined ? {} : { traceparent: meta.traceparent }),
  };
}

function leaseLost(holder: string, epoch: number): FleetStateError {
  return new FleetStateError(
    "LeaseLost",
    `publish shard map: ${JSON.stringify(holder)} does not hold the lease at epoch ${epoch}`,
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
