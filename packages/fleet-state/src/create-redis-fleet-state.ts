/**
 * The shared state in Redis (ioredis 6), for fleet mode. Redis is a rebuildable cache and
 * coordination layer, never the source of truth: after a restart or FLUSHALL every read returns
 * nothing, watchers republish and the leader replans. Atomic steps are Lua scripts
 * (redis-scripts.ts) on keys of one hash tag (redis-keys.ts, README.md). The client is the
 * caller's: this module never connects, closes or reconfigures it, and issues no blocking
 * commands, so one connection can serve every port.
 */
import type { Redis } from "ioredis";
import { checkName, checkNumber } from "./check-input.js";
import { systemClock, type Clock } from "./clock.js";
import { decodeSnapshot } from "./decode-snapshot.js";
import type { DirtyEntry } from "./dirty-queue.js";
import { encodeSnapshot } from "./encode-snapshot.js";
import { FleetStateError, toFleetStateError } from "./fleet-state-error.js";
import {
  DEFAULT_DIRTY_TAKE_TIMEOUT_MS,
  DEFAULT_DIRTY_VISIBILITY_TIMEOUT_MS,
  type FleetState,
  type FleetStateOptions,
} from "./fleet-state.js";
import type { Member } from "./membership.js";
import { createRedisKeys } from "./redis-keys.js";
import {
  ACK_DIRTY,
  ACQUIRE_LEASE,
  CONFIRM_SNAPSHOT_MARKED,
  HEARTBEAT,
  LIST_MEMBERS,
  MARK_DIRTY,
  PUBLISH_SHARD_MAP,
  PUBLISH_SNAPSHOT,
  RELEASE_LEASE,
  REQUEUE_TAKEN,
  TAKE_DIRTY,
  TAKE_TOKENS,
  runScript,
  type RedisScript,
} from "./redis-scripts.js";
import type { PublishedShardMap } from "./shard-map-store.js";
import type { ClusterStatus } from "./status-store.js";
import type { WatchProblem } from "./watch-problem-store.js";
import { waitForDirty } from "./wait-for-dirty.js";

/** Options of {@link createRedisFleetState}. */
export interface RedisFleetStateOptions extends FleetStateOptions {
  /** Prefix of every key (no `{` or `}`); default `rrfleet`. */
  readonly prefix?: string;
  /** Used for membership expiry, lease deadlines and waiting; default the system clock. */
  readonly clock?: Clock;
  /** How often a waiting `takeDirty` looks again, ms; default 100. */
  readonly dirtyPollMs?: number;
}

const CHANGE_REASON = "SnapshotChanged";

/**
 * A {@link FleetState} on `redis`. Each call returns one client with its own memory of the
 * highest lease epoch it saw (so epochs stay above it even after FLUSHALL). Throws
 * FleetStateError `Invalid` on a bad prefix or option; every method throws FleetStateError
 * (`Unavailable`/`ServerError` for Redis failures, see toFleetStateError).
 */
export function createRedisFleetState(
  redis: Redis,
  options: RedisFleetStateOptions = {},
): FleetState {
  const keys = createRedisKeys(options.prefix ?? "rrfleet");
  const clock = options.clock ?? systemClock;
  const visibilityMs = options.dirtyVisibilityTimeoutMs ?? DEFAULT_DIRTY_VISIBILITY_TIMEOUT_MS;
  const takeTimeoutMs = options.dirtyTakeTimeoutMs ?? DEFAULT_DIRTY_TAKE_TIMEOUT_MS;
  const pollMs = options.dirtyPollMs ?? 100;
  checkNumber("dirtyVisibilityTimeoutMs", visibilityMs, 0);
  checkNumber("dirtyTakeTimeoutMs", takeTimeoutMs, 0, true);
  checkNumber("dirtyPollMs", pollMs, 0);
  let seenEpoch = 0;

  const run = async (
    what: string,
    script: RedisScript,
    scriptKeys: readonly string[],
    args: readonly (string | Buffer | number)[],
  ): Promise<unknown> => {
    try {
      return await runScript(redis, script, scriptKeys, args);
    } catch (err: unknown) {
      throw toFleetStateError(err, what);
    }
  };

  const call = async <T>(what: string, command: () => Promise<T>): Promise<T> => {
    try {
      return await command();
    } catch (err: unknown) {
      throw toFleetStateError(err, what);
    }
  };

  const markDirty = async (cluster: string, reason: string, traceparent?: string) => {
    checkName("cluster", cluster);
    await run(
      `mark ${cluster} dirty`,
      MARK_DIRTY,
      [keys.dirtyDue, keys.dirtyMarks, keys.dirtySequence],
      [cluster, reason, traceparent ?? ""],
    );
  };

  return {
    async publishSnapshot(cluster, snapshot, meta) {
      const key = keys.snapshot(cluster);
      const what = `publish snapshot of ${cluster}`;
      const encoded = encodeSnapshot(snapshot);
      const hash = encoded.hash;
      const publish = async (data: Buffer | string) => {
        const reply = await run(
          what,
          PUBLISH_SNAPSHOT,
          [key],
          [hash, data, meta.watcher, String(meta.observedAt), meta.traceparent ?? ""],
        );
        const [outcome, bytes] = Array.isArray(reply) ? (reply as unknown[]) : [];
        if (typeof outcome !== "number" || typeof bytes !== "number") throw corrupt(what, "reply");
        return { outcome, bytes };
      };
      // Compare first: an unchanged publish (the common idle case) neither compresses nor ships the bytes.
      let result = await publish("");
      if (result.outcome === 0) result = await publish(encoded.bytes);
      const { outcome, bytes } = result;
      if (outcome === 1) return { changed: false, hash, bytes };
      // Stored with an "unmarked" flag first, cleared only after the mark: a watcher that dies
      // in between leaves the flag, and its next publish of the same content marks again.
      await markDirty(cluster, CHANGE_REASON, meta.traceparent);
      await run(what, CONFIRM_SNAPSHOT_MARKED, [key], [hash]);
      return { changed: true, hash, bytes };
    },

    async readSnapshot(cluster) {
      const key = keys.snapshot(cluster);
      const [data, hash, watcher, observedAt, traceparent] = await call(
        `read snapshot of ${cluster}`,
        () => redis.hmgetBuffer(key, "d", "h", "w", "o", "t"),
      );
      if (data === null || data === undefined) return undefined;
      if (hash == null || watcher == null || observedAt == null) {
        throw new FleetStateError("Corrupt", `read snapshot of ${cluster}: metadata missing`);
      }
      return {
        snapshot: decodeSnapshot(data),
        hash: hash.toString(),
        meta: {
          watcher: watcher.toString(),
          observedAt: Number(observedAt.toString()),
          ...(traceparent == null ? {} : { traceparent: traceparent.toString() }),
        },
        bytes: data.length,
      };
    },

    async markDirty(cluster, mark) {
      await markDirty(cluster, mark.reason, mark.traceparent);
    },

    async takeDirty(max, signal) {
      checkNumber("max", max, 1, true);
      const attempt = async () => {
        const reply = await run(
          "take dirty clusters",
          TAKE_DIRTY,
          [keys.dirtyDue, keys.dirtyMarks],
          [Math.floor(max), visibilityMs],
        );
        return parseTakeReply(reply);
      };
      return waitForDirty(attempt, {
        clock,
        timeoutMs: takeTimeoutMs,
        pollMs,
        ...(signal === undefined ? {} : { signal }),
      });
    },

    async ackDirty({ cluster, generation }) {
      checkName("cluster", cluster);
      const reply = await run(
        `ack dirty ${cluster}`,
        ACK_DIRTY,
        [keys.dirtyDue, keys.dirtyMarks],
        [cluster, generation],
      );
      return reply === 1;
    },

    async requeueTaken() {
      const reply = await run("requeue taken dirty clusters", REQUEUE_TAKEN, [keys.dirtyDue], []);
      return Number(reply);
    },

    async countDirty() {
      return call("count dirty clusters", () => redis.zcard(keys.dirtyDue));
    },

    async heartbeat(watcherId, { capacity, ttlMs }) {
      checkName("watcherId", watcherId);
      checkNumber("ttlMs", ttlMs, 0);
      if (capacity !== undefined) checkNumber("capacity", capacity, 0, true);
      const now = clock.now();
      const ttl = Math.ceil(ttlMs);
      await run(
        `heartbeat of ${watcherId}`,
        HEARTBEAT,
        [keys.memberExpiry, keys.memberInfo],
        [
          watcherId,
          now + ttl,
          JSON.stringify(capacity === undefined ? {} : { capacity }),
          ttl,
          now,
        ],
      );
    },

    async listMembers(now) {
      const reply = await run(
        "list members",
        LIST_MEMBERS,
        [keys.memberExpiry, keys.memberInfo],
        [now],
      );
      const flat = asStrings(reply, "list members");
      const members: Member[] = [];
      for (let i = 0; i + 2 < flat.length; i += 3) {
        const info = parseJsonObject(flat[i + 2] as string, "list members");
        const capacity = info["capacity"];
        members.push({
          watcherId: flat[i] as string,
          ...(typeof capacity === "number" ? { capacity } : {}),
          expiresAt: Number(flat[i + 1]),
        });
      }
      return members.sort((a, b) => compareText(a.watcherId, b.watcherId));
    },

    async leave(watcherId) {
      checkName("watcherId", watcherId);
      await call(`leave ${watcherId}`, () =>
        redis
          .multi()
          .zrem(keys.memberExpiry, watcherId)
          .hdel(keys.memberInfo, watcherId)
          .exec()
          .then(checkExec),
      );
    },

    async publishShardMap(map, fencing) {
      const stored: PublishedShardMap = {
        epoch: map.epoch,
        assignments: map.assignments,
        publishedBy: fencing.holder,
        leaderEpoch: fencing.epoch,
      };
      const reply = await run(
        "publish shard map",
        PUBLISH_SHARD_MAP,
        [keys.lease, keys.shardMap],
        [fencing.holder, String(fencing.epoch), JSON.stringify(stored)],
      );
      if (reply !== 1) {
        throw new FleetStateError(
          "LeaseLost",
          `publish shard map: ${JSON.stringify(fencing.holder)} does not hold the lease at epoch ${fencing.epoch}`,
        );
      }
    },

    async readShardMap() {
      const text = await call("read shard map", () => redis.get(keys.shardMap));
      if (text === null) return undefined;
      const map = parseShardMap(text);
      seenEpoch = Math.max(seenEpoch, map.leaderEpoch);
      return map;
    },

    async acquireOrRenew(candidateId, ttlMs, acquireOptions = {}) {
      checkName("candidateId", candidateId);
      checkNumber("ttlMs", ttlMs, 0);
      const sentAt = clock.now();
      const reply = await run(
        "acquire or renew the lease",
        ACQUIRE_LEASE,
        [keys.lease, keys.epoch],
        [candidateId, Math.ceil(ttlMs), Math.max(seenEpoch, acquireOptions.minEpoch ?? 0)],
      );
      const [holder, epochText, pttl] = Array.isArray(reply) ? (reply as unknown[]) : [];
      const epoch = Number(epochText);
      if (typeof holder !== "string" || !Number.isSafeInteger(epoch) || typeof pttl !== "number") {
        throw new FleetStateError("Corrupt", `acquire or renew the lease: unexpected reply`);
      }
      seenEpoch = Math.max(seenEpoch, epoch);
      // A lease key without expiry (someone wrote it by hand) reports -1: treat it as expiring now.
      const ttl = Math.max(0, pttl);
      return { held: holder === candidateId, epoch, holder, expiresAt: sentAt + ttl, ttlMs: ttl };
    },

    async readLease() {
      const [holder, epochText, pttl] = await call("read the lease", () =>
        redis
          .multi()
          .hget(keys.lease, "holder")
          .hget(keys.lease, "epoch")
          .pttl(keys.lease)
          .exec()
          .then(checkExec),
      );
      if (holder === null || holder === undefined) return undefined;
      const epoch = Number(epochText);
      if (typeof holder !== "string" || !Number.isSafeInteger(epoch) || typeof pttl !== "number") {
        throw new FleetStateError("Corrupt", "read the lease: unexpected fields");
      }
      return { holder, epoch, ttlMs: Math.max(0, pttl) };
    },

    async release(candidateId, epoch) {
      checkName("candidateId", candidateId);
      const reply = await run(
        "release the lease",
        RELEASE_LEASE,
        [keys.lease],
        [candidateId, String(epoch)],
      );
      return reply === 1;
    },

    async takeTokens(bucketKey, { ratePerSecond, burst, n = 1 }) {
      checkNumber("ratePerSecond", ratePerSecond, 0);
      checkNumber("burst", burst, 1, true);
      checkNumber("n", n, 0);
      const reply = await run(
        `take tokens from ${bucketKey}`,
        TAKE_TOKENS,
        [keys.bucket(bucketKey)],
        [ratePerSecond, burst, n],
      );
      if (typeof reply !== "number") {
        throw new FleetStateError("Corrupt", `take tokens from ${bucketKey}: unexpected reply`);
      }
      return reply;
    },

    async writeStatus(cluster, status) {
      const key = keys.status(cluster);
      await call(`write status of ${cluster}`, () =>
        redis
          .pipeline()
          .set(key, JSON.stringify(status))
          .sadd(keys.statusIndex, cluster)
          .exec()
          .then(checkExec),
      );
    },

    async reportWatchProblem(cluster, problem, ttlMs) {
      checkNumber("ttlMs", ttlMs, 0);
      const key = keys.watchProblem(cluster);
      await call(`report the watch problem of ${cluster}`, () =>
        redis.set(key, JSON.stringify(problem), "PX", Math.ceil(ttlMs)),
      );
    },

    async clearWatchProblem(cluster) {
      const key = keys.watchProblem(cluster);
      await call(`clear the watch problem of ${cluster}`, () => redis.del(key));
    },

    async readWatchProblem(cluster) {
      const key = keys.watchProblem(cluster);
      const text = await call(`read the watch problem of ${cluster}`, () => redis.get(key));
      return text === null ? undefined : parseWatchProblem(text, cluster);
    },

    async readStatuses() {
      const what = "read statuses";
      const clusters = (await call(what, () => redis.smembers(keys.statusIndex))).sort(compareText);
      if (clusters.length === 0) return {};
      const pipeline = redis.pipeline();
      for (const cluster of clusters) pipeline.get(keys.status(cluster));
      const replies = await call(what, () => pipeline.exec().then(checkExec));
      const statuses: Record<string, ClusterStatus> = {};
      const missing: string[] = [];
      clusters.forEach((cluster, i) => {
        const text = replies[i];
        if (typeof text === "string") statuses[cluster] = parseStatus(text, cluster);
        else missing.push(cluster);
      });
      // Index entries whose status key is gone (evicted, deleted by hand) are dropped here.
      if (missing.length > 0) await call(what, () => redis.srem(keys.statusIndex, ...missing));
      return statuses;
    },
  };
}

type ExecReply = [error: Error | null, result: unknown][] | null;

/** A pipeline or MULTI's results, throwing the first command error (EXEC's null means aborted). */
function checkExec(replies: ExecReply): unknown[] {
  if (replies === null) throw new Error("transaction aborted");
  return replies.map(([error, result]) => {
    if (error !== null) throw error;
    return result;
  });
}

function parseTakeReply(reply: unknown): {
  entries: DirtyEntry[];
  nextDueInMs: number | undefined;
} {
  if (!Array.isArray(reply) || reply.length !== 2) throw corrupt("take dirty clusters", "reply");
  const [flat, nextDue] = reply as [unknown, unknown];
  const items = asStrings(flat, "take dirty clusters");
  const entries: DirtyEntry[] = [];
  for (let i = 0; i + 1 < items.length; i += 2) {
    entries.push(parseDirtyEntry(items[i] as string, items[i + 1] as string));
  }
  return {
    entries,
    nextDueInMs: typeof nextDue === "number" && nextDue >= 0 ? nextDue : undefined,
  };
}

function parseDirtyEntry(cluster: string, text: string): DirtyEntry {
  const what = `dirty entry of ${cluster}`;
  const raw = parseJsonObject(text, what);
  const { marks, first, last, gen, deliveries, reason, tp } = raw;
  if (
    typeof marks !== "number" ||
    typeof first !== "number" ||
    typeof last !== "number" ||
    typeof gen !== "number" ||
    typeof deliveries !== "number" ||
    typeof reason !== "string" ||
    (tp !== undefined && typeof tp !== "string")
  ) {
    throw corrupt(what, "fields");
  }
  return {
    cluster,
    reason,
    ...(tp === undefined ? {} : { traceparent: tp }),
    marks,
    firstMarkedAt: first,
    lastMarkedAt: last,
    generation: gen,
    deliveries,
  };
}

function parseShardMap(text: string): PublishedShardMap {
  const raw = parseJsonObject(text, "shard map");
  const { epoch, assignments, publishedBy, leaderEpoch } = raw;
  if (
    typeof epoch !== "number" ||
    typeof publishedBy !== "string" ||
    typeof leaderEpoch !== "number" ||
    typeof assignments !== "object" ||
    assignments === null ||
    Array.isArray(assignments) ||
    !Object.values(assignments).every((watcher) => typeof watcher === "string")
  ) {
    throw corrupt("shard map", "fields");
  }
  return { epoch, assignments: assignments as Record<string, string>, publishedBy, leaderEpoch };
}

function parseWatchProblem(text: string, cluster: string): WatchProblem {
  const what = `watch problem of ${cluster}`;
  const raw = parseJsonObject(text, what);
  const { watcher, reason, message, attempts, at } = raw;
  if (
    typeof watcher !== "string" ||
    typeof reason !== "string" ||
    typeof message !== "string" ||
    typeof attempts !== "number" ||
    typeof at !== "number"
  ) {
    throw corrupt(what, "fields");
  }
  return { watcher, reason, message, attempts, at };
}

const PHASES: readonly string[] = ["Converged", "Progressing", "Blocked", "Failing"];

function parseStatus(text: string, cluster: string): ClusterStatus {
  const what = `status of ${cluster}`;
  const raw = parseJsonObject(text, what);
  const { phase, reason, message, updatedAt } = raw;
  const optionalNumbers = [
    "nodes",
    "reflectors",
    "pendingSteps",
    "pendingActions",
    "failures",
    "convergedSince",
    "lastConvergedAt",
    "leaderEpoch",
  ] as const;
  if (
    typeof phase !== "string" ||
    !PHASES.includes(phase) ||
    typeof reason !== "string" ||
    typeof message !== "string" ||
    typeof updatedAt !== "number" ||
    optionalNumbers.some((field) => raw[field] !== undefined && typeof raw[field] !== "number") ||
    (raw["traceparent"] !== undefined && typeof raw["traceparent"] !== "string") ||
    !isOptionalStatusEvent(raw["lastStep"]) ||
    !isOptionalStatusEvent(raw["lastError"])
  ) {
    throw corrupt(what, "fields");
  }
  return raw as unknown as ClusterStatus;
}

function isOptionalStatusEvent(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== "object" || value === null) return false;
  const event = value as Record<string, unknown>;
  return (
    typeof event["reason"] === "string" &&
    typeof event["message"] === "string" &&
    typeof event["at"] === "number"
  );
}

function parseJsonObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err: unknown) {
    throw corrupt(what, "JSON", err);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw corrupt(what, "not an object");
  }
  return value as Record<string, unknown>;
}

function asStrings(reply: unknown, what: string): string[] {
  if (!Array.isArray(reply)) throw corrupt(what, "reply");
  return reply.map((item: unknown) => {
    if (typeof item !== "string") throw corrupt(what, "reply");
    return item;
  });
}

function corrupt(what: string, detail: string, cause?: unknown): FleetStateError {
  return new FleetStateError("Corrupt", `${what}: unexpected ${detail}`, {
    ...(cause === undefined ? {} : { cause }),
  });
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
