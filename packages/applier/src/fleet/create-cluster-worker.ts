/**
 * The leader's per-cluster pass: take one dirty entry, plan the cluster from its published
 * snapshot, apply the plan's first step through fenced, rate-limited writers, wait until the
 * snapshot shows the writes, write the cluster's status, and mark it dirty again while steps
 * remain (at once), while sessions are pending (after `sessionRecheckMs`) or after a failure
 * (after a jittered backoff). A fenced write or a newer epoch in the snapshot ends the term.
 */
import { context, trace, SpanStatusCode } from "@opentelemetry/api";
import type { WriteFencing } from "@rrfleet/kube";
import type { DirtyEntry } from "@rrfleet/fleet-state";
import { contextFromTraceparent, traceparentOf } from "@rrfleet/telemetry";
import { recordOutcomeMetrics } from "../record-outcome-metrics.js";
import { errorCode, errorMessage, retryDelayMs } from "../retry-policy.js";
import { reconcileCluster } from "../reconcile-cluster.js";
import { createOutcomeLog } from "../log-outcome.js";
import type { Leadership } from "./leader-election.js";
import type {
  ClusterIo,
  FleetLeaderDeps,
  FleetLeaderEnd,
  LeaderCluster,
  LeaderMemory,
} from "./fleet-leader-deps.js";
import { createSharedTokenBucket } from "./shared-token-bucket.js";
import { createSnapshotClusterView } from "./snapshot-cluster-view.js";
import { highestEpochIn } from "./highest-epoch-in.js";
import { renderClusterStatus } from "./render-cluster-status.js";
import { createStatusWriter } from "./create-status-writer.js";
import { traceWriter } from "./trace-writer.js";
import { reportBackgroundError } from "./report-background-error.js";

/** The global write bucket's key in the shared rate limiter. */
export const GLOBAL_BUCKET_KEY = "global";

/** Handles dirty clusters for one leadership term. */
export interface ClusterWorker {
  /** One pass over `entry`'s cluster; never throws (failures are retried with backoff). */
  handle(entry: DirtyEntry, signal: AbortSignal): Promise<void>;
  /** Resolves when no scheduled retry is pending. */
  idle(): Promise<void>;
}

/** How long after a plan's `replanAt` the cluster is planned again. */
const REPLAN_MARGIN_MS = 250;

/**
 * Creates the worker of one term (see the module comment). `finish` ends the term (Fenced,
 * EpochBehind); `memory` is updated after every pass (node counts, status history).
 */
export function createClusterWorker(
  deps: FleetLeaderDeps,
  leadership: Leadership,
  finish: (end: FleetLeaderEnd) => void,
  memory: LeaderMemory,
): ClusterWorker {
  const { state, clock, metrics, fleetMetrics, settings } = deps;
  const backoff = settings.backoff ?? { initialMs: 1_000, maxMs: 60_000 };
  const statuses = createStatusWriter({
    state,
    statusHistory: memory.statusHistory,
    onError: (cluster, err) => {
      reportBackgroundError(deps, "writeStatus", err, "could not write the cluster's status", {
        cluster,
      });
    },
  });
  const fencing: WriteFencing = {
    epoch: leadership.epoch,
    assertCurrent: leadership.assertCurrent,
  };
  const io = new Map<string, Promise<ClusterIo>>();
  /** Each failing cluster's streak: failed passes in a row and the last error code. */
  const failures = new Map<string, { readonly count: number; readonly code: string }>();
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
      } catch (err: unknown) {
        // Aborted: the leadership is over and the next leader's resync covers the cluster.
        if (signal.aborted) return;
        reportBackgroundError(
          deps,
          "markDirty",
          err,
          "could not mark the cluster dirty again; the periodic resync plans it",
          { cluster, reason },
        );
      }
    })();
    retries.add(retry);
    void retry.finally(() => retries.delete(retry));
  };

  /** Cluster → the instant a pass is already scheduled for by {@link scheduleReplan}. */
  const replans = new Map<string, number>();

  /**
   * Plans `cluster` again when its plan changes by itself (`replanAt`: a NotReady reflector's
   * grace ends), rather than at the next resync; once per instant, however many passes see it.
   */
  const scheduleReplan = (cluster: string, at: string | undefined, signal: AbortSignal): void => {
    const due = at === undefined ? Number.NaN : Date.parse(at);
    if (Number.isNaN(due) || replans.get(cluster) === due) return;
    replans.set(cluster, due);
    // A little after the instant: the planner compares with `>`, and clocks round.
    markLater(cluster, Math.max(0, due - clock.now()) + REPLAN_MARGIN_MS, "GraceEnds", signal);
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
      const view = await createSnapshotClusterView({
        store: state,
        cluster: entry.cluster,
        clock,
        onPollError: (err) => {
          reportBackgroundError(
            deps,
            "refreshSnapshot",
            err,
            "could not re-read the cluster's snapshot while waiting for writes; polling on",
            { cluster: entry.cluster },
          );
        },
      });
      if (view === undefined) {
        // Its watcher has not published yet (start-up, an emptied Redis): the first publish
        // marks the cluster dirty again. A watcher that cannot watch it says why (and marks it
        // dirty when the reason changes): that goes into the status, where people look.
        const problem = await state.readWatchProblem(entry.cluster);
        if (problem === undefined) {
          logger.debug({}, "no snapshot yet; waiting for the cluster's watcher");
          fleetMetrics.passes.inc({ outcome: "NoSnapshot" });
        } else {
          fleetMetrics.passes.inc({ outcome: "WatchFailing" });
          const message = `watcher ${problem.watcher} cannot watch the cluster: ${problem.message}`;
          await statuses.write(entry.cluster, {
            phase: "Failing",
            reason: problem.reason,
            message,
            updatedAt: clock.now(),
            failures: problem.attempts,
            lastError: { reason: problem.reason, message, at: problem.at },
            leaderEpoch: leadership.epoch,
          });
        }
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
          sessions: clusterIo.sessions(fencing),
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
      memory.nodeCounts.set(entry.cluster, nodes);
      logOutcome(logger, entry.cluster, outcome);
      recordOutcomeMetrics(metrics, entry.cluster, outcome);
      await statuses.write(
        entry.cluster,
        renderClusterStatus(outcome, {
          updatedAt: clock.now(),
          nodes,
          leaderEpoch: leadership.epoch,
          traceparent,
        }),
      );
      switch (outcome.kind) {
        case "StepApplied":
          // Steps remain: plan again at once (behind other due clusters, which keeps it fair).
          await state.markDirty(entry.cluster, { reason: "StepApplied", traceparent });
          break;
        case "AwaitingSessions":
          markLater(entry.cluster, settings.sessionRecheckMs ?? 2_000, "SessionsPending", signal);
          break;
        case "AwaitingRoutes":
          markLater(entry.cluster, settings.sessionRecheckMs ?? 2_000, "RoutesPending", signal);
          break;
        default:
          break;
      }
      scheduleReplan(entry.cluster, outcome.plan.summary.replanAt, signal);
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
      const previous = failures.get(entry.cluster);
      const count = (previous?.count ?? 0) + 1;
      failures.set(entry.cluster, { count, code });
      metrics.reconcileDuration.observe(
        { cluster: entry.cluster, outcome: "Failed" },
        (clock.now() - started) / 1000,
      );
      fleetMetrics.passes.inc({ outcome: "Failed" });
      const delayMs = retryDelayMs(err, count, backoff, settings.random ?? Math.random);
      // Warned once per streak (and when the code changes); the retries are debug. Every one
      // is counted (rrfleet_write_errors_total) and the status carries the last error.
      const fields = { code, failures: count, retryInMs: delayMs, err: errorMessage(err) };
      const message = "cluster pass failed; will plan it again from its next snapshot";
      if (previous === undefined || previous.code !== code) logger.warn(fields, message);
      else logger.debug(fields, message);
      await statuses.write(entry.cluster, {
        phase: "Failing",
        reason: code,
        message: errorMessage(err),
        updatedAt: clock.now(),
        failures: count,
        lastError: { reason: code, message: errorMessage(err), at: clock.now() },
        leaderEpoch: leadership.epoch,
      });
      markLater(entry.cluster, delayMs, "Retry", signal);
      await state.ackDirty(entry).catch((ackErr: unknown) => {
        reportBackgroundError(
          deps,
          "ackDirty",
          ackErr,
          "could not acknowledge the dirty entry; it is delivered again after its visibility timeout",
          { cluster: entry.cluster },
        );
      });
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
