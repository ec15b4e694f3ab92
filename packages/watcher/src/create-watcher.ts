/**
 * The fleet's watcher (see README.md): heartbeats, watches exactly the registered clusters the
 * shard map gives it, publishes their projected snapshots, and never writes to a cluster.
 *
 *   every tick (≤ 1 s):  read the shard map → start watches it gained, stop watches it lost for
 *                        longer than one heartbeat period (the new owner has started by then:
 *                        a hand-off without a gap), restart watches whose definition changed;
 *                        a watch that fails to start is tried again after a jittered, doubling
 *                        backoff (warned once per streak), and its reason is reported to the
 *                        leader (watch problem + dirty mark), which shows it in the status
 *   every heartbeat:     membership heartbeat; republish every synced cluster (cheap when
 *                        unchanged, and it refills an emptied Redis)
 *   on a watch change:   one `watcher.observe` span per coalesced change; publish at most one
 *                        snapshot per cluster at a time, at most every `publishIntervalMs`
 */
import { SpanStatusCode, type Span, type Tracer } from "@opentelemetry/api";
import type {
  Clock,
  DirtyQueue,
  Membership,
  ShardMapStore,
  SnapshotStore,
  WatchProblemStore,
} from "@rrfleet/fleet-state";
import type { BackoffBounds, WatchLogger } from "@rrfleet/kube";
import type { ClusterSnapshot } from "@rrfleet/topology-core";
import { traceparentOf } from "@rrfleet/telemetry";
import type { WatcherBackgroundOperation, WatcherMetrics } from "./watcher-metrics.js";
import { shouldApplyShardMap, type ShardMapVersion } from "./should-apply-shard-map.js";
import { createStartFailures, type StartFailure } from "./track-start-failures.js";

/** A registered cluster as the watcher needs it (`@rrfleet/kube`'s `RegisteredCluster` fits it). */
export interface WatchableCluster {
  readonly name: string;
  /** Changes when the cluster's definition (credentials, target) changes: the watch restarts. */
  readonly fingerprint: string;
}

/** A running watch of one cluster (`@rrfleet/kube`'s `ClusterWatch` fits it). */
export interface ClusterWatchHandle {
  snapshot(): ClusterSnapshot;
  isSynced(): boolean;
  /** Resolves once the first LIST of every resource is in. */
  waitForSync?(): Promise<void>;
  subscribe(listener: () => void): () => void;
  stop(): Promise<void>;
}

/** The log calls the watcher makes (a pino logger fits it). */
export type WatcherLogger = WatchLogger;

/** Dependencies of {@link createWatcher}. */
export interface WatcherDeps {
  readonly watcherId: string;
  readonly state: SnapshotStore &
    Membership &
    ShardMapStore &
    WatchProblemStore &
    Pick<DirtyQueue, "markDirty">;
  /** The registered clusters now. */
  readonly clusters: () => readonly WatchableCluster[];
  /** Connects to a cluster and starts watching it; may reject (retried after `startBackoff`). */
  readonly startWatch: (cluster: WatchableCluster) => Promise<ClusterWatchHandle>;
  readonly heartbeatMs: number;
  /** Relative capacity for shard assignment; default unset (1). */
  readonly capacity?: number;
  /** Shard-map poll period; default a quarter heartbeat, at most 1,000 ms. */
  readonly tickMs?: number;
  /** Minimum time between two publishes of one cluster; default 100 ms. */
  readonly publishIntervalMs?: number;
  /** Backoff between attempts to start a failing watch (full jitter, doubling); default 1 s → 60 s. */
  readonly startBackoff?: BackoffBounds;
  /** [0, 1) for the backoff's jitter; default Math.random. */
  readonly random?: () => number;
  readonly clock: Clock;
  readonly logger: WatcherLogger;
  readonly metrics: WatcherMetrics;
  readonly tracer: Tracer;
}

/**
 * A cluster the watcher watches or should watch, as {@link Watcher.status} reports it. An owned
 * cluster whose watch has not started (connecting failed; retried every tick) is listed unsynced,
 * so /readyz names it.
 */
export interface WatchedClusterStatus {
  readonly name: string;
  readonly synced: boolean;
  /** Still watched after the shard map gave it to another watcher (until this time, epoch ms). */
  readonly releasingUntil?: number;
  /** Why its watch could not be started (the last failure); absent once it started. */
  readonly lastError?: string;
}

/** Where the watcher stands, for /readyz and /healthz. */
export interface WatcherStatus {
  readonly watcherId: string;
  /** Epoch ms of the last successful heartbeat; undefined before the first. */
  readonly lastHeartbeatAt?: number;
  /** Epoch of the shard map applied last. */
  readonly shardMapEpoch?: number;
  readonly clusters: readonly WatchedClusterStatus[];
}

/** The watcher service's loop. */
export interface Watcher {
  /** Runs until `signal` aborts, then stops every watch and leaves the membership. */
  run(signal: AbortSignal): Promise<void>;
  status(): WatcherStatus;
}

/** One watched cluster's state inside the watcher. */
interface Watched {
  readonly name: string;
  readonly fingerprint: string;
  readonly handle: ClusterWatchHandle;
  unsubscribe: () => void;
  releasingUntil: number | undefined;
  /** The span of the change(s) not yet published, and when the first of them was seen. */
  pending: { readonly span: Span; readonly since: number } | undefined;
  publishing: boolean;
  again: boolean;
  lastPublishAt: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A watcher is listed for 2.5 heartbeat periods after each beat: gone after two missed beats and
 * a half. With the leader and the watchers polling every quarter period, a dead watcher's
 * clusters are watched again within 3 periods of its death (the fleet's promise).
 */
export const MEMBERSHIP_TTL_BEATS = 2.5;

/** Default of {@link WatcherDeps.startBackoff}. */
export const DEFAULT_START_BACKOFF: BackoffBounds = { initialMs: 1_000, maxMs: 60_000 };

/** Creates the watcher (see the module comment). */
export function createWatcher(deps: WatcherDeps): Watcher {
  const { state, clock, logger, metrics, watcherId } = deps;
  const tickMs = deps.tickMs ?? Math.min(1_000, deps.heartbeatMs / 4);
  const publishIntervalMs = deps.publishIntervalMs ?? 100;
  const startBackoff = deps.startBackoff ?? DEFAULT_START_BACKOFF;
  const startFailures = createStartFailures(startBackoff, deps.random ?? Math.random);
  /** A watch problem outlives the retries it describes, not a watcher that stopped reporting. */
  const problemTtlMs = 2 * startBackoff.maxMs + MEMBERSHIP_TTL_BEATS * deps.heartbeatMs;
  const watched = new Map<string, Watched>();
  /** Clusters whose watch is being started: not started twice. */
  const starting = new Set<string>();
  let lastHeartbeatAt: number | undefined;
  let lastBeatTriedAt = Number.NEGATIVE_INFINITY;
  /** The version of the shard map applied last (see should-apply-shard-map.ts). */
  let applied: ShardMapVersion | undefined;
  /** Registered clusters the applied shard map gives this watcher (watched or not yet). */
  let wanted: readonly string[] = [];
  let stopped = false;

  /** Logs and counts a failure no caller sees (`rrfleet_background_errors_total`). */
  const reportBackgroundError = (
    operation: WatcherBackgroundOperation,
    err: unknown,
    message: string,
    fields: object = {},
  ): void => {
    metrics.backgroundErrors.inc({ operation });
    logger.warn(
      { ...fields, operation, err: err instanceof Error ? err.message : String(err) },
      message,
    );
  };

  const publish = async (cluster: Watched, reason: "change" | "heartbeat"): Promise<void> => {
    if (cluster.publishing) {
      cluster.again = true;
      return;
    }
    if (!cluster.handle.isSynced()) return;
    cluster.publishing = true;
    const pending = cluster.pending;
    cluster.pending = undefined;
    const started = clock.now();
    try {
      const span = pending?.span;
      const result = await state.publishSnapshot(cluster.name, cluster.handle.snapshot(), {
        watcher: watcherId,
        observedAt: started,
        ...(span === undefined ? {} : { traceparent: traceparentOf(span) }),
      });
      cluster.lastPublishAt = clock.now();
      metrics.publishes.inc({ cluster: cluster.name, changed: String(result.changed) });
      if (pending !== undefined) {
        metrics.publishLag.observe((clock.now() - pending.since) / 1000);
        pending.span.setAttributes({
          "rrfleet.snapshot.changed": result.changed,
          "rrfleet.snapshot.bytes": result.bytes,
        });
        pending.span.end();
      }
      if (result.changed) {
        logger.debug(
          { cluster: cluster.name, reason, bytes: result.bytes },
          "published a changed snapshot",
        );
      }
    } catch (err: unknown) {
      metrics.publishErrors.inc({ cluster: cluster.name });
      logger.warn(
        { cluster: cluster.name, err: err instanceof Error ? err.message : String(err) },
        "could not publish the snapshot; retrying",
      );
      if (pending !== undefined) {
        pending.span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
        // Keep the change pending: the next publish (change or heartbeat) carries its trace.
        cluster.pending ??= pending;
      }
    } finally {
      cluster.publishing = false;
    }
    if (cluster.again) {
      cluster.again = false;
      schedule(cluster);
    }
  };

  /** Publishes `cluster` once `publishIntervalMs` after its last publish (coalescing changes). */
  const schedule = (cluster: Watched): void => {
    if (cluster.timer !== undefined || stopped) return;
    const wait = Math.max(0, cluster.lastPublishAt + publishIntervalMs - clock.now());
    cluster.timer = setTimeout(() => {
      cluster.timer = undefined;
      void publish(cluster, "change");
    }, wait);
  };

  const start = async (cluster: WatchableCluster): Promise<void> => {
    starting.add(cluster.name);
    try {
      const handle = await deps.startWatch(cluster);
      if (stopped) {
        await handle.stop();
        return;
      }
      const entry: Watched = {
        name: cluster.name,
        fingerprint: cluster.fingerprint,
        handle,
        unsubscribe: () => undefined,
        releasingUntil: undefined,
        pending: undefined,
        timer: undefined,
        publishing: false,
        again: false,
        lastPublishAt: Number.NEGATIVE_INFINITY,
      };
      entry.unsubscribe = handle.subscribe(() => {
        entry.pending ??= {
          span: deps.tracer.startSpan("watcher.observe", {
            attributes: { "rrfleet.cluster": cluster.name, "rrfleet.watcher": watcherId },
          }),
          since: clock.now(),
        };
        schedule(entry);
      });
      watched.set(cluster.name, entry);
      // Its first snapshot goes out as soon as the watch has synced.
      void handle.waitForSync?.().then(
        () => {
          if (watched.get(cluster.name) === entry) schedule(entry);
        },
        (err: unknown) => {
          // Only a stopped watch rejects (kube's watchCluster never stops on its own), and a
          // watch this watcher stopped is not reported; anything else is a fault to see.
          if (stopped || watched.get(cluster.name) !== entry) return;
          reportBackgroundError(
            "waitForSync",
            err,
            "the cluster's watch failed before its first sync; it is not published and /readyz lists it",
            { cluster: cluster.name },
          );
        },
      );
      metrics.clustersOwned.set(watched.size);
      logger.info({ cluster: cluster.name }, "watching cluster");
      if (startFailures.clear(cluster.name)) {
        state.clearWatchProblem(cluster.name).catch((clearErr: unknown) => {
          reportBackgroundError(
            "clearWatchProblem",
            clearErr,
            "could not clear the cluster's watch problem; it expires",
            { cluster: cluster.name },
          );
        });
      }
    } catch (err: unknown) {
      metrics.watchStartErrors.inc({ cluster: cluster.name });
      const { failure, delayMs, isNews } = startFailures.fail(cluster.name, err, clock.now());
      // One warning per streak (or when the reason changes); the retries are debug, and counted.
      const fields = {
        cluster: cluster.name,
        reason: failure.reason,
        err: failure.message,
        attempts: failure.attempts,
        retryInMs: delayMs,
      };
      const message = "could not start watching the cluster; retrying with backoff";
      if (isNews) logger.warn(fields, message);
      else logger.debug(fields, message);
      void reportProblem(cluster.name, failure, isNews);
    } finally {
      starting.delete(cluster.name);
    }
  };

  /** Tells the leader why `cluster` is not watched: it writes the reason into the status. */
  const reportProblem = async (
    cluster: string,
    failure: StartFailure,
    isNews: boolean,
  ): Promise<void> => {
    try {
      await state.reportWatchProblem(
        cluster,
        {
          watcher: watcherId,
          reason: failure.reason,
          message: failure.message,
          attempts: failure.attempts,
          at: clock.now(),
        },
        problemTtlMs,
      );
      // Without a snapshot the leader plans nothing for the cluster: mark it so it reads this.
      if (isNews) await state.markDirty(cluster, { reason: "WatchFailing" });
    } catch (err: unknown) {
      reportBackgroundError(
        "reportWatchProblem",
        err,
        "could not report why the cluster is not watched",
        { cluster },
      );
    }
  };

  const stop = async (name: string, why: string): Promise<void> => {
    const cluster = watched.get(name);
    if (cluster === undefined) return;
    watched.delete(name);
    cluster.unsubscribe();
    if (cluster.timer !== undefined) clearTimeout(cluster.timer);
    cluster.pending?.span.end();
    metrics.clustersOwned.set(watched.size);
    await cluster.handle.stop();
    logger.info({ cluster: name, why }, "stopped watching cluster");
  };

  const heartbeat = async (): Promise<void> => {
    lastBeatTriedAt = clock.now();
    try {
      await state.heartbeat(watcherId, {
        ttlMs: MEMBERSHIP_TTL_BEATS * deps.heartbeatMs,
        ...(deps.capacity === undefined ? {} : { capacity: deps.capacity }),
      });
      lastHeartbeatAt = clock.now();
    } catch (err: unknown) {
      metrics.heartbeatFailures.inc();
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, "heartbeat failed");
    }
    // Republish: unchanged content costs one hash compare; after a Redis flush it is a change.
    for (const cluster of watched.values()) void publish(cluster, "heartbeat");
  };

  /** Brings the running watches in line with the shard map and the registry. */
  const reconcile = async (): Promise<void> => {
    const registered = new Map(deps.clusters().map((c) => [c.name, c]));
    let assignments: Readonly<Record<string, string>> | undefined;
    try {
      const map = await state.readShardMap();
      if (map !== undefined && shouldApplyShardMap(applied, map)) {
        if (
          applied !== undefined &&
          (applied.publishedBy !== map.publishedBy || applied.leaderEpoch !== map.leaderEpoch)
        ) {
          logger.info(
            {
              epoch: map.epoch,
              publishedBy: map.publishedBy,
              leaderEpoch: map.leaderEpoch,
              previous: applied,
            },
            "following the shard map of a new leadership",
          );
        }
        applied = { publishedBy: map.publishedBy, leaderEpoch: map.leaderEpoch, epoch: map.epoch };
        assignments = map.assignments;
      } else if (map !== undefined) {
        logger.warn(
          { epoch: map.epoch, leaderEpoch: map.leaderEpoch, applied },
          "ignoring an older shard map of the same leadership",
        );
      }
    } catch (err: unknown) {
      reportBackgroundError(
        "readShardMap",
        err,
        "could not read the shard map; keeping the current watches",
      );
      return;
    }
    const now = clock.now();
    const owned = (name: string): boolean => assignments?.[name] === watcherId;
    const work: Promise<void>[] = [];
    for (const cluster of watched.values()) {
      const definition = registered.get(cluster.name);
      if (definition === undefined) {
        work.push(stop(cluster.name, "removed from the registry"));
      } else if (definition.fingerprint !== cluster.fingerprint) {
        work.push(stop(cluster.name, "its definition changed; restarting"));
      } else if (owned(cluster.name)) {
        cluster.releasingUntil = undefined;
      } else if (assignments !== undefined) {
        // Keep publishing for one heartbeat period: the new owner starts within it.
        cluster.releasingUntil ??= now + deps.heartbeatMs;
        if (now >= cluster.releasingUntil)
          work.push(stop(cluster.name, "handed to another watcher"));
      }
    }
    await Promise.all(work);
    wanted = [...registered.keys()].filter(owned);
    for (const [name, cluster] of registered) {
      if (!owned(name)) {
        // Not ours (any more): its new owner reports its own failures.
        startFailures.clear(name);
      } else if (!watched.has(name) && !starting.has(name) && startFailures.isDue(name, now)) {
        work.push(start(cluster));
      }
    }
    await Promise.all(work);
  };

  const run = async (signal: AbortSignal): Promise<void> => {
    const stoppedNow = (): boolean => signal.aborted;
    try {
      while (!stoppedNow()) {
        if (clock.now() - lastBeatTriedAt >= deps.heartbeatMs) await heartbeat();
        await reconcile();
        try {
          await clock.sleep(tickMs, signal);
        } catch {
          break;
        }
      }
    } finally {
      stopped = true;
      await Promise.all([...watched.keys()].map((name) => stop(name, "shutting down")));
      try {
        await state.leave(watcherId);
        logger.info({}, "left the fleet: my clusters move to other watchers at once");
      } catch (err: unknown) {
        reportBackgroundError(
          "leave",
          err,
          "could not leave the membership; my entry expires after 3 heartbeats",
        );
      }
    }
  };

  return {
    run,
    status: () => ({
      watcherId,
      ...(lastHeartbeatAt === undefined ? {} : { lastHeartbeatAt }),
      ...(applied === undefined ? {} : { shardMapEpoch: applied.epoch }),
      clusters: [
        ...[...watched.values()].map((c) => ({
          name: c.name,
          synced: c.handle.isSynced(),
          ...(c.releasingUntil === undefined ? {} : { releasingUntil: c.releasingUntil }),
        })),
        // Owned but not watched yet (its watch is starting, or connecting failed): not synced.
        ...wanted
          .filter((name) => !watched.has(name))
          .map((name) => {
            const failure = startFailures.get(name);
            return {
              name,
              synced: false,
              ...(failure === undefined ? {} : { lastError: failure.message }),
            };
          }),
      ],
    }),
  };
}
