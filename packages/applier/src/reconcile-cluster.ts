import type { SessionCheckResult, SessionPair } from "@rrfleet/kube";
import {
  findSessionsToConfirm,
  planCluster,
  type ClusterSnapshot,
  type Plan,
  type Policy,
  type Step,
} from "@rrfleet/topology-core";
import type { Clock } from "@rrfleet/fleet-state";
import { executeStep, type ExecuteStepDeps, type StepExecution } from "./execute-step.js";
import { waitForObserved, type ObservingView } from "./wait-for-observed.js";

/** The watched cluster as the reconciler reads it (`@rrfleet/kube`'s `ClusterWatch` fits it). */
export interface ClusterView extends ObservingView {
  snapshot(): ClusterSnapshot;
}

/** Confirms BGP sessions (`@rrfleet/kube`'s session checks fit it). */
export interface SessionWaiter {
  waitForSessions(pairs: readonly SessionPair[], signal?: AbortSignal): Promise<SessionCheckResult>;
}

/** Everything one reconcile pass needs. */
export interface ReconcileDeps extends Omit<ExecuteStepDeps, "signal"> {
  readonly view: ClusterView;
  readonly sessions: SessionWaiter;
  readonly policy: Policy;
  readonly clock: Clock;
  /** Plan only, never write. */
  readonly dryRun: boolean;
  /** How long the watch may take to show our own writes; default 30 s. */
  readonly observeTimeoutMs?: number;
}

/** What one pass found or did; `kind` values are stable (logs, metrics). */
export type ReconcileOutcome =
  | { readonly kind: "Converged"; readonly plan: Plan }
  /** The interlock refused the next step (it would lose routes): nothing safe to do now. */
  | { readonly kind: "Blocked"; readonly plan: Plan }
  | { readonly kind: "DryRun"; readonly plan: Plan }
  /** Sessions a previous step opened are still not Established: nothing else is done until they are. */
  | { readonly kind: "AwaitingSessions"; readonly sessions: SessionCheckResult }
  | {
      readonly kind: "StepApplied";
      readonly plan: Plan;
      readonly step: Step;
      readonly execution: StepExecution;
      /** The check after a step that opened sessions; its `missing` pairs must be confirmed next pass. */
      readonly sessions?: SessionCheckResult;
    };

/**
 * Sessions checked after one step at most. Turning the mesh back on (the fail-safe) opens every
 * pair's session — 12.5 million at 5,000 nodes — and nothing waits on those: they are restored,
 * not replacing anything. An even sample still catches a cluster whose BGP does not come up.
 */
const MAX_CHECKED = 5_000;

/**
 * One level-triggered pass over a cluster: confirm the sessions a previous step left unconfirmed
 * (make-before-break holds even when Calico is slow); plan from what the watch shows now; apply
 * only the plan's first step; wait until the watch shows our writes (so the next pass plans from
 * them, not from a stale cache); and, when the step opened sessions, wait for them to be
 * Established before anything may remove the sessions they replace. A restart in the middle
 * therefore loses nothing: the next pass plans again from the cluster.
 * Throws the errors of its ports (KubeError, aborts); the caller retries with backoff.
 */
export async function reconcileCluster(
  deps: ReconcileDeps,
  unconfirmed: readonly SessionPair[],
  signal?: AbortSignal,
): Promise<ReconcileOutcome> {
  if (unconfirmed.length > 0 && !deps.dryRun) {
    const sessions = await deps.sessions.waitForSessions(unconfirmed, signal);
    if (sessions.missing.length > 0) return { kind: "AwaitingSessions", sessions };
  }
  const before = deps.view.snapshot();
  const plan = planCluster(before, deps.policy, new Date(deps.clock.now()));
  const step = plan.steps[0];
  if (step === undefined) {
    return plan.summary.analysis.refusedStep === undefined
      ? { kind: "Converged", plan }
      : { kind: "Blocked", plan };
  }
  if (deps.dryRun) return { kind: "DryRun", plan };

  const execution = await executeStep(step, before, { ...deps, ...(signal ? { signal } : {}) });
  await waitForObserved(deps.view, execution.results, {
    clock: deps.clock,
    timeoutMs: deps.observeTimeoutMs ?? 30_000,
    ...(signal ? { signal } : {}),
  });
  if (!step.waitForSessions) return { kind: "StepApplied", plan, step, execution };
  const pairs = sampleSessions(findSessionsToConfirm(before, deps.view.snapshot()), MAX_CHECKED);
  const sessions = await deps.sessions.waitForSessions(pairs, signal);
  return { kind: "StepApplied", plan, step, execution, sessions };
}

/** At most `limit` pairs, spread evenly over the (sorted) list: deterministic, no clock or RNG. */
export function sampleSessions(
  pairs: readonly SessionPair[],
  limit: number,
): readonly SessionPair[] {
  if (pairs.length <= limit) return pairs;
  const stride = pairs.length / limit;
  return Array.from({ length: limit }, (_, i) => pairs[Math.floor(i * stride)] as SessionPair);
}
