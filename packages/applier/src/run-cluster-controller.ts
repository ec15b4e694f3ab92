/**
 * The per-cluster control loop. States, as `status().state` reports them:
 *   Starting → (watch synced) → Converging ⇄ AwaitingSessions → Converged | Blocked | DryRun,
 *   any of them → Failing on an error (retried with jittered backoff, Retry-After honoured) and
 *   back on the next successful pass.
 * It is level-triggered: every pass plans from what the watch shows, applies one step, and loops
 * at once while steps remain; otherwise it sleeps until the watch reports a change or the resync
 * period passes (which also catches NotReady grace periods running out).
 */
import type { SessionPair } from "@rrfleet/kube";
import type { ApplierMetrics } from "./metrics.js";
import { recordOutcomeMetrics } from "./record-outcome-metrics.js";
import {
  errorCode,
  errorMessage,
  isRetryable,
  retryDelayMs,
  sleepQuietly,
  type Backoff,
} from "./retry-policy.js";
import {
  reconcileCluster,
  type ClusterView,
  type ReconcileDeps,
  type ReconcileOutcome,
} from "./reconcile-cluster.js";

/** The log calls the loop makes (a pino logger fits it). */
export interface ControllerLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** The watch as the loop needs it: a {@link ClusterView} that can tell when it has synced. */
export interface SyncingClusterView extends ClusterView {
  waitForSync(signal?: AbortSignal): Promise<void>;
  isSynced(): boolean;
}

/** Options of {@link createClusterController}. */
export interface ClusterControllerOptions extends ReconcileDeps {
  readonly cluster: string;
  readonly view: SyncingClusterView;
  readonly logger: ControllerLogger;
  readonly metrics: ApplierMetrics;
  /** Re-plan at least this often without any change; default 30 s. */
  readonly resyncMs?: number;
  /** Retry backoff after a failed pass: full jitter, doubling; default 1 s → 60 s. */
  readonly backoff?: Backoff;
  /** How long to wait before re-checking unconfirmed sessions; default 2 s. */
  readonly sessionRecheckMs?: number;
  readonly random?: () => number;
}

/** Where a cluster's loop stands. */
export type ControllerState =
  "Starting" | "Converging" | "AwaitingSessions" | "Converged" | "Blocked" | "DryRun" | "Failing";

/** A snapshot of one loop for probes, logs and `rrctl status`. */
export interface ClusterControllerStatus {
  readonly cluster: string;
  readonly state: ControllerState;
  readonly synced: boolean;
  readonly stepsApplied: number;
  readonly consecutiveFailures: number;
  readonly lastError?: string;
  /** Epoch ms of the last finished pass. */
  readonly lastPassAt?: number;
}

/** A cluster's control loop. */
export interface ClusterController {
  /** Runs until `signal` aborts; resolves then (an abort is not an error). */
  run(signal: AbortSignal): Promise<void>;
  status(): ClusterControllerStatus;
}

/** Creates the control loop of one cluster (see the module comment for its states). */
export function createClusterController(options: ClusterControllerOptions): ClusterController {
  const { cluster, view, logger, metrics, clock } = options;
  const resyncMs = options.resyncMs ?? 30_000;
  const backoff = options.backoff ?? { initialMs: 1_000, maxMs: 60_000 };
  const random = options.random ?? Math.random;
  let state: ControllerState = "Starting";
  let stepsApplied = 0;
  let failures = 0;
  let lastError: string | undefined;
  let lastPassAt: number | undefined;
  let lastDryRunPlan: string | undefined;
  /** Sessions a step opened that were not seen Established: checked before anything else. */
  let unconfirmed: readonly SessionPair[] = [];

  const record = (outcome: ReconcileOutcome): readonly SessionPair[] => {
    recordOutcomeMetrics(metrics, cluster, outcome);
    switch (outcome.kind) {
      case "AwaitingSessions":
        state = "AwaitingSessions";
        logger.warn(
          {
            missing: outcome.sessions.missing.length,
            sample: outcome.sessions.missing.slice(0, 5),
          },
          "BGP sessions opened by the last step are not Established yet; holding further steps",
        );
        return outcome.sessions.missing;
      case "StepApplied": {
        const { plan, step, execution, sessions } = outcome;
        state = "Converging";
        stepsApplied += 1;
        const missing = sessions?.missing ?? [];
        logger.info(
          {
            reason: step.reason,
            actions: step.actions.length,
            stepsLeft: plan.steps.length - 1,
            rateLimitWaitMs: execution.rateLimitWaitMs,
            ...(sessions === undefined
              ? {}
              : {
                  sessionsEstablished: sessions.established,
                  sessionsMissing: sessions.missing.length,
                  sessionsUnverifiable: sessions.unverifiable.length,
                }),
          },
          `applied step: ${step.description}`,
        );
        return missing;
      }
      case "Converged":
      case "Blocked":
      case "DryRun": {
        const { plan } = outcome;
        const previous = state;
        state = outcome.kind;
        if (outcome.kind === "Converged" && previous !== "Converged") {
          logger.info(
            {
              reflectors: plan.summary.reflectors,
              sessions: plan.summary.sessions,
              fullMeshSessions: plan.summary.fullMeshSessions,
              meshEnabled: plan.summary.meshEnabled,
              verdict: plan.summary.analysis.verdict,
            },
            "converged",
          );
        }
        if (outcome.kind === "Blocked" && previous !== "Blocked") {
          logger.error(
            { refused: plan.summary.analysis.refusedStep },
            "the next step would lose routes; the interlock refused it and nothing is applied",
          );
        }
        if (outcome.kind === "DryRun") {
          const fingerprint = JSON.stringify(plan.steps);
          if (fingerprint !== lastDryRunPlan) {
            lastDryRunPlan = fingerprint;
            logger.info(
              {
                steps: plan.steps.map((s) => ({
                  reason: s.reason,
                  description: s.description,
                  actions: s.actions.length,
                })),
              },
              `dry run: would apply ${plan.steps.length} steps, ${plan.summary.actions} actions`,
            );
          }
        }
        return [];
      }
    }
  };

  const deps: ReconcileDeps = {
    ...options,
    onWrite: (action, result, waitedMs) => {
      metrics.actionsApplied.inc({ cluster, verb: action.verb, kind: action.kind });
      options.onWrite?.(action, result, waitedMs);
    },
  };

  const run = async (signal: AbortSignal): Promise<void> => {
    try {
      await view.waitForSync(signal);
    } catch (err: unknown) {
      if (signal.aborted) return;
      throw err;
    }
    logger.info({}, "watch synced; reconciling");
    state = "Converging";
    // A function, not `signal.aborted` inline: TypeScript narrows the property after the loop
    // test and cannot see the abort that happens during an await.
    const stopped = (): boolean => signal.aborted;
    let dirty = true;
    let wake = new AbortController();
    const unsubscribe = view.subscribe(() => {
      dirty = true;
      wake.abort();
    });
    try {
      while (!signal.aborted) {
        if (!dirty) {
          await sleepQuietly(clock, resyncMs, AbortSignal.any([signal, wake.signal]));
          wake = new AbortController();
          if (stopped()) break;
        }
        dirty = false;
        const started = clock.now();
        try {
          const outcome = await reconcileCluster(deps, unconfirmed, signal);
          metrics.reconcileDuration.observe(
            { cluster, outcome: outcome.kind },
            (clock.now() - started) / 1000,
          );
          failures = 0;
          lastError = undefined;
          unconfirmed = record(outcome);
          if (outcome.kind === "StepApplied") dirty = true;
          if (outcome.kind === "AwaitingSessions") {
            await sleepQuietly(clock, options.sessionRecheckMs ?? 2_000, signal);
            dirty = true;
          }
        } catch (err: unknown) {
          if (stopped()) break;
          failures += 1;
          const code = errorCode(err);
          lastError = errorMessage(err);
          state = "Failing";
          metrics.reconcileDuration.observe(
            { cluster, outcome: "Failed" },
            (clock.now() - started) / 1000,
          );
          metrics.writeErrors.inc({ cluster, code });
          const delayMs = retryDelayMs(err, failures, backoff, random);
          logger.error(
            { code, retryable: isRetryable(err), failures, retryInMs: delayMs, err: lastError },
            "reconcile failed; will plan again from what the cluster shows",
          );
          await sleepQuietly(clock, delayMs, signal);
          dirty = true;
        } finally {
          lastPassAt = clock.now();
        }
      }
    } finally {
      unsubscribe();
    }
  };

  return {
    run,
    status: () => ({
      cluster,
      state,
      synced: view.isSynced(),
      stepsApplied,
      consecutiveFailures: failures,
      ...(lastError === undefined ? {} : { lastError }),
      ...(lastPassAt === undefined ? {} : { lastPassAt }),
    }),
  };
}
