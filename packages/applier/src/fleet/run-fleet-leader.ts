/**
 * What the fleet applier does while it holds the lease (see DESIGN.md "Fleet mode"):
 *
 *   takeover: read every snapshot → highest fencing epoch in the fleet ≥ ours? → give the lease
 *             back and campaign above it; else mark every cluster dirty (full resync)
 *   shard map: every heartbeat, assign registered clusters to live watchers (bounded-load
 *             rendezvous weighted by node count) and publish under the lease; report orphans
 *   drain:     N workers take dirty clusters (coalesced), plan from the published snapshot,
 *             apply the plan's first step through fenced, rate-limited writers, wait until the
 *             snapshot shows the writes, and mark the cluster dirty again while steps remain
 *
 * Everything stops when the leadership's signal aborts; a write never leaves after that
 * (the writers ask `assertCurrent` before each request).
 */
import { context, trace, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import { assignShards, type Policy, type ClusterSnapshot } from "@rrfleet/topology-core";
import type { ClusterConnection, WriteFencing } from "@rrfleet/kube";
import {
  carryStatusHistory,
  type Clock,
  type ClusterStatus,
  type DirtyEntry,
  type FleetState,
} from "@rrfleet/fleet-state";
import { contextFromTraceparent, traceparentOf } from "@rrfleet/telemetry";
import type { ActionWriter } from "../execute-step.js";
import { traceWriter } from "./trace-writer.js";
import type { ApplierMetrics } from "../metrics.js";
import { recordOutcomeMetrics } from "../record-outcome-metrics.js";
import {
  errorCode,
  errorMessage,
  retryDelayMs,
  sleepQuietly,
  type Backoff,
} from "../retry-policy.js";
import {
  reconcileCluster,
  type ReconcileOutcome,
  type SessionWaiter,
} from "../reconcile-cluster.js";
import type { ApplierLogger } from "../applier-logger.js";
import { createOutcomeLog } from "../log-outcome.js";
import type { FleetApplierMetrics } from "./fleet-metrics.js";
import type { Leadership } from "./leader-election.js";
import { createSharedTokenBucket, type SharedBucket } from "./shared-token-bucket.js";
import { createSnapshotClusterView } from "./snapshot-cluster-view.js";

/** A registered cluster as the leader needs it (`@rrfleet/kube`'s `RegisteredCluster` fits it). */
export interface LeaderCluster {
  readonly name: string;
  readonly fingerprint: string;
  readonly policy: Policy;
  connect(): ClusterConnection;
}

/** How the leader reaches one cluster: built once per cluster definition (fingerprint). */
export interface ClusterIo {
  /** A writer whose every write is fenced by `fencing`. */
  writer(fencing: WriteFencing): ActionWriter;
  readonly sessions: SessionWaiter;
}

/** Tuning of the leader's work. */
export interface FleetLeaderSettings {
  readonly heartbeatMs: number;
  readonly clusterBucket: SharedBucket["shape"];
  readonly globalBucket: SharedBucket["shape"];
  readonly maxParallelClusters: number;
  /** Every cluster is planned at least this often without any change. */
  readonly resyncMs: number;
  readonly dryRun: boolean;
  /** How long the published snapshot may take to show the leader's writes; default 30 s. */
  readonly observeTimeoutMs?: number;
  /** Wait before checking unconfirmed sessions again; default 2 s. */
  readonly sessionRecheckMs?: number;
  /** Retry backoff of a failing cluster: full jitter, doubling; default 1 s → 60 s. */
  readonly backoff?: Backoff;
  /** [0, 1) for the backoff's jitter; default Math.random. */
  readonly random?: () => number;
}

/** Dependencies of {@link runFleetLeader}. */
export interface FleetLeaderDeps {
  readonly state: FleetState;
  readonly clusters: () => readonly LeaderCluster[];
  /** Connects to a cluster (detects its Calico API); may throw, retried on the next pass. */
  readonly openCluster: (cluster: LeaderCluster) => Promise<ClusterIo>;
  readonly clock: Clock;
  readonly logger: ApplierLogger & { child(bindings: object): ApplierLogger };
  readonly metrics: ApplierMetrics;
  readonly fleetMetrics: FleetApplierMetrics;
  readonly tracer: Tracer;
  readonly settings: FleetLeaderSettings;
}

/** How a leadership term ended. */
export type FleetLeaderEnd =
  /** The leadership's signal aborted (lease lost or released). */
  | { readonly kind: "LeadershipEnded" }
  /** Objects in the fleet carry an epoch ≥ ours: the lease store lost its counter. Re-campaign above it. */
  | { readonly kind: "EpochBehind"; readonly highestEpoch: number; readonly cluster: string }
  /** A write found an object written by a newer leader: someone else leads. */
  | { readonly kind: "Fenced"; readonly message: string };

/** The global write bucket's key in the shared rate limiter. */
export const GLOBAL_BUCKET_KEY = "global";

/**
 * Runs one leadership term (see the module comment) until the leadership ends or `signal`
 * aborts. Never throws for a cluster's failure: each is retried with backoff.
 */
export async function runFleetLeader(
  deps: FleetLeaderDeps,
  leadership: Leadership,
  signal: AbortSignal,
): Promise<FleetLeaderEnd> {
  const { state, clock, logger, fleetMetrics } = deps;
  const stop = new AbortController();
  const stopSignal = AbortSignal.any([signal, leadership.signal, stop.signal]);
  let end: FleetLeaderEnd = { kind: "LeadershipEnded" };
  const finish = (reason: FleetLeaderEnd): void => {
    if (stop.signal.aborted) return;
    end = reason;
    stop.abort();
  };

  const behind = await findHighestEpoch(deps, leadership.epoch);
  if (behind !== undefined) {
    logger.error(
      { epoch: leadership.epoch, highestEpoch: behind.highestEpoch, cluster: behind.cluster },
      "objects carry a fencing epoch at or above ours (the lease store lost its counter); re-campaigning above it",
    );
    return { kind: "EpochBehind", ...behind };
  }
  const registered = deps.clusters();
  // What the previous leader had taken would stay hidden for its visibility timeout.
  const requeued = await state.requeueTaken();
  for (const cluster of registered) {
    await state.markDirty(cluster.name, { reason: "Resync" });
  }
  logger.info(
    { epoch: leadership.epoch, clusters: registered.length, requeued },
    "leading: full resync of every cluster",
  );

  // Shard weights: node counts as the last leader reported them, then as this one plans.
  // Kept here rather than read from every status each period (that is one Redis read of the
  // whole fleet every quarter heartbeat).
  const stored = Object.entries(await state.readStatuses());
  const nodeCounts = new Map(
    stored.flatMap(([name, status]) =>
      status.nodes === undefined ? [] : [[name, status.nodes] as const],
    ),
  );
  // Each status written carries the cluster's history (last step, last error, converged since).
  const statusHistory = new Map(stored);
  const worker = createClusterWorker({ ...deps, statusHistory }, leadership, finish, nodeCounts);
  const orphanLog = { last: "" };
  const logFailure =
    (what: string) =>
    (err: unknown): void => {
      logger.warn({ err: errorMessage(err) }, `${what} failed; trying again next period`);
    };
  const loops = [
    // A quarter heartbeat: a dead watcher's clusters move soon after its membership expires.
    every(
      clock,
      deps.settings.heartbeatMs / 4,
      stopSignal,
      () => publishShardMap(deps, leadership, nodeCounts, orphanLog),
      {
        onError: logFailure("publishing the shard map"),
      },
    ),
    every(
      clock,
      deps.settings.heartbeatMs,
      stopSignal,
      async () => {
        fleetMetrics.dirtyQueueDepth.set(await state.countDirty());
      },
      { onError: logFailure("counting dirty clusters") },
    ),
    every(
      clock,
      deps.settings.resyncMs,
      stopSignal,
      async () => {
        for (const cluster of deps.clusters()) {
          await state.markDirty(cluster.name, { reason: "Resync" });
        }
      },
      { skipFirst: true, onError: logFailure("the periodic resync") },
    ),
    ...Array.from({ length: deps.settings.maxParallelClusters }, () =>
      drain(deps, worker, stopSignal),
    ),
  ];
  await Promise.all(loops);
  await worker.idle();
  return end;
}

/**
 * The highest fencing epoch in any published snapshot when it is ≥ `epoch`. Reads 8 snapshots
 * at a time: a takeover of a large fleet should not wait for them one by one.
 */
async function findHighestEpoch(
  deps: FleetLeaderDeps,
  epoch: number,
): Promise<{ highestEpoch: number; cluster: string } | undefined> {
  let found: { highestEpoch: number; cluster: string } | undefined;
  const clusters = deps.clusters();
  for (let i = 0; i < clusters.length; i += 8) {
    const batch = clusters.slice(i, i + 8);
    const stored = await Promise.all(batch.map((c) => deps.state.readSnapshot(c.name)));
    stored.forEach((snapshot, j) => {
      if (snapshot === undefined) return;
      const highest = highestEpochIn(snapshot.snapshot);
      if (highest >= epoch && highest > (found?.highestEpoch ?? -1)) {
        found = { highestEpoch: highest, cluster: batch[j]?.name ?? "" };
      }
    });
  }
  return found;
}

/** The highest `fencingEpoch` on any object of `snapshot`; 0 when none carries one. */
export function highestEpochIn(snapshot: ClusterSnapshot): number {
  let highest = snapshot.bgpConfiguration.fencingEpoch ?? 0;
  for (const node of snapshot.nodes) highest = Math.max(highest, node.fencingEpoch ?? 0);
  for (const peer of snapshot.bgpPeers) highest = Math.max(highest, peer.fencingEpoch ?? 0);
  return highest;
}

async function publishShardMap(
  deps: FleetLeaderDeps,
  leadership: Leadership,
  nodeCounts: ReadonlyMap<string, number>,
  /** The orphans logged last: each change is logged once, not every period. */
  orphanLog: { last: string },
): Promise<void> {
  const { state, clock, logger, fleetMetrics } = deps;
  const [members, previous] = await Promise.all([
    state.listMembers(clock.now()),
    state.readShardMap(),
  ]);
  const clusters = deps.clusters().map((cluster) => ({
    name: cluster.name,
    weight: Math.max(1, nodeCounts.get(cluster.name) ?? 1),
  }));
  const result = assignShards({
    clusters,
    watchers: members.map((m) => ({
      id: m.watcherId,
      ...(m.capacity === undefined ? {} : { capacity: m.capacity }),
    })),
    ...(previous === undefined ? {} : { previous }),
  });
  fleetMetrics.watchersAlive.set(members.length);
  fleetMetrics.orphanedClusters.set(result.orphans.length);
  const orphans = result.orphans.join(",");
  if (orphans !== orphanLog.last && result.orphans.length > 0) {
    logger.error(
      { orphans: result.orphans.slice(0, 20), count: result.orphans.length },
      "clusters owned by no watcher: no live watchers",
    );
  }
  orphanLog.last = orphans;
  for (const decision of result.decisions) {
    if (decision.kind === "assign" || decision.kind === "overload") {
      logger.info({ decision: decision.kind, reason: decision.reason }, decision.message);
    }
  }
  // A flushed store has no map: publish even an unchanged assignment so watchers find one.
  if (!result.changed && previous !== undefined) {
    fleetMetrics.shardMapEpoch.set(previous.epoch);
    return;
  }
  const epoch = (previous?.epoch ?? 0) + 1;
  leadership.assertCurrent();
  await state.publishShardMap(
    { epoch, assignments: result.assignments },
    { holder: leadership.holder, epoch: leadership.epoch },
  );
  fleetMetrics.shardMapEpoch.set(epoch);
  logger.info(
    { shardMapEpoch: epoch, clusters: clusters.length, watchers: members.length },
    "published the shard map",
  );
}

interface ClusterWorker {
  handle(entry: DirtyEntry, signal: AbortSignal): Promise<void>;
  /** Resolves when no scheduled retry is pending. */
  idle(): Promise<void>;
}

function createClusterWorker(
  deps: WorkerDeps,
  leadership: Leadership,
  finish: (end: FleetLeaderEnd) => void,
  /** Updated after every pass: the shard map's weights. */
  nodeCounts: Map<string, number>,
): ClusterWorker {
  const { state, clock, metrics, fleetMetrics, settings } = deps;
  const backoff = settings.backoff ?? { initialMs: 1_000, maxMs: 60_000 };
  const fencing: WriteFencing = {
    epoch: leadership.epoch,
    assertCurrent: leadership.assertCurrent,
  };
  const io = new Map<string, Promise<ClusterIo>>();
  const failures = new Map<string, number>();
  const retries = new Set<Promise<void>>();
  const logOutcome = createOutcomeLog();

  const openCluster = (cluster: LeaderCluster): Promise<ClusterIo> => {
    const key = `${cluster.name}\u0000${cluster.fingerprint}`;
    let opened = io.get(key);
    if (opened === undefined) {
      opened = deps.openCluster(cluster);
      opened.catch(() => io.delete(key));
      io.set(key, opened);
    }
    return opened;
  };

  /** Marks `cluster` dirty again after `ms` (in memory: a crash loses it, the resync does not). */
  const markLater = (cluster: string, ms: number, reason: string, signal: AbortSignal): void => {
    const retry = (async () => {
      try {
        await clock.sleep(ms, signal);
        await state.markDirty(cluster, { reason });
      } catch {
        // Aborted (leadership over) or the store is down: the next leader's resync covers it.
      }
    })();
    retries.add(retry);
    void retry.finally(() => retries.delete(retry));
  };

  /** Clusters a worker is planning now: a redelivery of one (a pass outlasting the visibility timeout) waits for its ack. */
  const inProgress = new Set<string>();

  const handle = async (entry: DirtyEntry, signal: AbortSignal): Promise<void> => {
    if (inProgress.has(entry.cluster)) return;
    inProgress.add(entry.cluster);
    try {
      await handlePass(entry, signal);
    } finally {
      inProgress.delete(entry.cluster);
    }
  };

  const handlePass = async (entry: DirtyEntry, signal: AbortSignal): Promise<void> => {
    const cluster = deps.clusters().find((c) => c.name === entry.cluster);
    const logger = deps.logger.child({ cluster: entry.cluster });
    if (cluster === undefined) {
      fleetMetrics.passes.inc({ outcome: "Unregistered" });
      await state.ackDirty(entry);
      return;
    }
    const parent = contextFromTraceparent(entry.traceparent);
    const span = deps.tracer.startSpan(
      "applier.reconcile",
      {
        attributes: {
          "rrfleet.cluster": entry.cluster,
          "rrfleet.dirty.reason": entry.reason,
          "rrfleet.dirty.marks": entry.marks,
          "rrfleet.leader.epoch": leadership.epoch,
        },
      },
      parent,
    );
    const spanContext = trace.setSpan(context.active(), span);
    const started = clock.now();
    let firstWrite = true;
    try {
      const view = await createSnapshotClusterView({ store: state, cluster: entry.cluster, clock });
      if (view === undefined) {
        // Its watcher has not published yet (start-up, an emptied Redis): the first publish
        // marks the cluster dirty again.
        logger.debug({}, "no snapshot yet; waiting for the cluster's watcher");
        fleetMetrics.passes.inc({ outcome: "NoSnapshot" });
        await state.ackDirty(entry);
        return;
      }
      // Redis lost its counter after the takeover check (snapshots come back after a flush):
      // an object written by a newer epoch than ours. Re-campaign above it; write nothing.
      const highest = highestEpochIn(view.snapshot());
      if (highest > leadership.epoch) {
        finish({ kind: "EpochBehind", highestEpoch: highest, cluster: entry.cluster });
        return;
      }
      const clusterIo = await openCluster(cluster);
      const writer = clusterIo.writer(fencing);
      const tracedWriter = traceWriter(writer, deps.tracer, spanContext, entry.cluster, () => {
        // The first write caused by a watcher's change: the node-event-to-write latency.
        if (!firstWrite) return;
        firstWrite = false;
        if (entry.reason === "SnapshotChanged") {
          fleetMetrics.nodeEventToWrite.observe(
            { cluster: entry.cluster },
            Math.max(0, clock.now() - entry.firstMarkedAt) / 1000,
          );
        }
      });
      const bucket = createSharedTokenBucket(
        state,
        [
          { key: `cluster/${entry.cluster}`, shape: settings.clusterBucket },
          { key: GLOBAL_BUCKET_KEY, shape: settings.globalBucket },
        ],
        clock,
      );
      const outcome = await reconcileCluster(
        {
          view,
          writer: tracedWriter,
          sessions: clusterIo.sessions,
          bucket,
          policy: cluster.policy,
          clock,
          dryRun: settings.dryRun,
          ...(settings.observeTimeoutMs === undefined
            ? {}
            : { observeTimeoutMs: settings.observeTimeoutMs }),
          onWrite: (action) => {
            metrics.actionsApplied.inc({
              cluster: entry.cluster,
              verb: action.verb,
              kind: action.kind,
            });
          },
        },
        signal,
      );
      metrics.reconcileDuration.observe(
        { cluster: entry.cluster, outcome: outcome.kind },
        (clock.now() - started) / 1000,
      );
      fleetMetrics.passes.inc({ outcome: outcome.kind });
      failures.delete(entry.cluster);
      span.setAttribute("rrfleet.outcome", outcome.kind);
      const traceparent = traceparentOf(span);
      const nodes = view.snapshot().nodes.length;
      nodeCounts.set(entry.cluster, nodes);
      logOutcome(logger, entry.cluster, outcome);
      await recordOutcome(deps, leadership, entry, outcome, nodes, traceparent);
      switch (outcome.kind) {
        case "StepApplied":
          // Steps remain: plan again at once (behind other due clusters, which keeps it fair).
          await state.markDirty(entry.cluster, { reason: "StepApplied", traceparent });
          break;
        case "AwaitingSessions":
          markLater(entry.cluster, settings.sessionRecheckMs ?? 2_000, "SessionsPending", signal);
          break;
        default:
          break;
      }
      await state.ackDirty(entry);
    } catch (err: unknown) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(err) });
      if (signal.aborted) return; // leadership over: the entry is redelivered to the next leader
      const code = errorCode(err);
      metrics.writeErrors.inc({ cluster: entry.cluster, code });
      if (code === "Fenced") {
        logger.error(
          { err: errorMessage(err) },
          "a write was fenced: a newer leader has written this cluster; stepping down",
        );
        finish({ kind: "Fenced", message: errorMessage(err) });
        return;
      }
      const count = (failures.get(entry.cluster) ?? 0) + 1;
      failures.set(entry.cluster, count);
      metrics.reconcileDuration.observe(
        { cluster: entry.cluster, outcome: "Failed" },
        (clock.now() - started) / 1000,
      );
      fleetMetrics.passes.inc({ outcome: "Failed" });
      const delayMs = retryDelayMs(err, count, backoff, settings.random ?? Math.random);
      logger.error(
        { code, failures: count, retryInMs: delayMs, err: errorMessage(err) },
        "cluster pass failed; will plan it again from its next snapshot",
      );
      await writeStatusQuietly(deps, entry.cluster, {
        phase: "Failing",
        reason: code,
        message: errorMessage(err),
        updatedAt: clock.now(),
        failures: count,
        lastError: { reason: code, message: errorMessage(err), at: clock.now() },
        leaderEpoch: leadership.epoch,
      });
      markLater(entry.cluster, delayMs, "Retry", signal);
      await state.ackDirty(entry).catch(() => undefined);
    } finally {
      span.end();
    }
  };

  return {
    handle,
    idle: async () => {
      await Promise.allSettled([...retries]);
    },
  };
}

async function recordOutcome(
  deps: WorkerDeps,
  leadership: Leadership,
  entry: DirtyEntry,
  outcome: ReconcileOutcome,
  nodes: number,
  traceparent: string,
): Promise<void> {
  const cluster = entry.cluster;
  recordOutcomeMetrics(deps.metrics, cluster, outcome);
  const base = { updatedAt: deps.clock.now(), nodes, leaderEpoch: leadership.epoch, traceparent };
  switch (outcome.kind) {
    case "StepApplied": {
      const { plan, step } = outcome;
      await writeStatusQuietly(deps, cluster, {
        ...base,
        phase: "Progressing",
        reason: step.reason,
        message: step.description,
        reflectors: plan.summary.reflectors,
        pendingSteps: plan.steps.length - 1,
        pendingActions: plan.summary.actions - step.actions.length,
        lastStep: { reason: step.reason, message: step.description, at: base.updatedAt },
      });
      return;
    }
    case "AwaitingSessions":
      await writeStatusQuietly(deps, cluster, {
        ...base,
        phase: "Progressing",
        reason: "AwaitingSessions",
        message: `${outcome.sessions.missing.length} BGP sessions the next step relies on are not Established yet`,
      });
      return;
    case "Converged":
    case "Blocked":
    case "DryRun": {
      const { plan } = outcome;
      await writeStatusQuietly(deps, cluster, {
        ...base,
        phase:
          outcome.kind === "Converged"
            ? "Converged"
            : outcome.kind === "Blocked"
              ? "Blocked"
              : "Progressing",
        reason: outcome.kind,
        message:
          outcome.kind === "Converged"
            ? `${plan.summary.reflectors} route reflectors, ${plan.summary.sessions} BGP sessions`
            : outcome.kind === "Blocked"
              ? "the next step would lose routes; the interlock refused it"
              : `dry run: ${plan.steps.length} steps, ${plan.summary.actions} actions would be applied`,
        reflectors: plan.summary.reflectors,
        pendingSteps: plan.steps.length,
        pendingActions: plan.summary.actions,
      });
      return;
    }
  }
}

/** The worker's dependencies: the leader's, and each cluster's last status written or read. */
type WorkerDeps = FleetLeaderDeps & { readonly statusHistory: Map<string, ClusterStatus> };

async function writeStatusQuietly(
  deps: WorkerDeps,
  cluster: string,
  next: ClusterStatus,
): Promise<void> {
  const status = carryStatusHistory(deps.statusHistory.get(cluster), next);
  deps.statusHistory.set(cluster, status);
  try {
    await deps.state.writeStatus(cluster, status);
  } catch (err: unknown) {
    deps.logger.warn({ cluster, err: errorMessage(err) }, "could not write the cluster's status");
  }
}

/** One drain loop: takes one dirty cluster at a time until `signal` aborts. */
async function drain(
  deps: FleetLeaderDeps,
  worker: ClusterWorker,
  signal: AbortSignal,
): Promise<void> {
  const stopped = (): boolean => signal.aborted;
  while (!stopped()) {
    let entries: DirtyEntry[];
    try {
      entries = await deps.state.takeDirty(1, signal);
    } catch (err: unknown) {
      if (stopped()) return;
      deps.logger.warn({ err: errorMessage(err) }, "could not take dirty clusters; retrying");
      await sleepQuietly(deps.clock, 1_000, signal);
      continue;
    }
    for (const entry of entries) await worker.handle(entry, signal);
  }
}

/** Runs `task` now and then every `periodMs` until `signal` aborts; logs its failures. */
async function every(
  clock: Clock,
  periodMs: number,
  signal: AbortSignal,
  task: () => Promise<void>,
  options: { readonly skipFirst?: boolean; readonly onError?: (err: unknown) => void } = {},
): Promise<void> {
  // A function, not `signal.aborted` inline: TypeScript narrows the property after the loop
  // test and cannot see the abort that happens during an await.
  const stopped = (): boolean => signal.aborted;
  let first = true;
  while (!stopped()) {
    if (!first || options.skipFirst === true) {
      await sleepQuietly(clock, periodMs, signal);
      if (stopped()) return;
    }
    first = false;
    try {
      await task();
    } catch (err: unknown) {
      if (stopped()) return;
      options.onError?.(err);
    }
  }
}
