import type {
  RouteCheckResult,
  RouteHandoverRequest,
  SessionCheckResult,
  SessionPair,
} from "@rrfleet/kube";
import {
  applyActions,
  findSessionsToConfirm,
  planCluster,
  viewRoutes,
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

/** Confirms BGP sessions and the routes over them (`@rrfleet/kube`'s session checks fit it). */
export interface SessionWaiter {
  waitForSessions(pairs: readonly SessionPair[], signal?: AbortSignal): Promise<SessionCheckResult>;
  waitForRoutes(request: RouteHandoverRequest, signal?: AbortSignal): Promise<RouteCheckResult>;
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
  /**
   * The next step removes or restarts sessions, and some session it keeps is not Established yet:
   * nothing is written until it is.
   */
  | {
      readonly kind: "AwaitingSessions";
      readonly plan: Plan;
      readonly sessions: SessionCheckResult;
    }
  /**
   * The sessions are Established, but some node the step takes sessions from does not have every
   * route it has over them over the sessions it keeps yet (a reflector still sending its table):
   * nothing is written until it does.
   */
  | {
      readonly kind: "AwaitingRoutes";
      readonly plan: Plan;
      readonly sessions: SessionCheckResult;
      readonly routes: RouteCheckResult;
    }
  | {
      readonly kind: "StepApplied";
      readonly plan: Plan;
      readonly step: Step;
      readonly execution: StepExecution;
      /** The check made before the step, when the step removes or restarts sessions. */
      readonly sessions?: SessionCheckResult;
      /** The routes checked before the step, when it takes sessions from nodes that keep others. */
      readonly routes?: RouteCheckResult;
    };

/**
 * One level-triggered pass over a cluster: plan from what the watch shows now; when the plan's
 * first step removes or restarts BGP sessions, first confirm from Calico that every session the
 * step keeps is Established (the planner proved the step safe assuming so: make-before-break),
 * then that nodes losing sessions already have their routes over the ones they keep (an
 * Established session may still be receiving its table); apply only that step; and wait until the watch shows our writes, so the next pass plans from
 * them. What must be confirmed is derived from the cluster each time, never remembered, so a
 * controller restarted at any point (or a new fleet leader) waits exactly as this one would.
 * Fails closed: an error confirming sessions is thrown and nothing is written.
 * Throws the errors of its ports (KubeError, aborts); the caller retries with backoff.
 */
export async function reconcileCluster(
  deps: ReconcileDeps,
  signal?: AbortSignal,
): Promise<ReconcileOutcome> {
  const before = deps.view.snapshot();
  const plan = planCluster(before, deps.policy, new Date(deps.clock.now()));
  const step = plan.steps[0];
  if (step === undefined) {
    return plan.summary.analysis.refusedStep === undefined
      ? { kind: "Converged", plan }
      : { kind: "Blocked", plan };
  }
  if (deps.dryRun) return { kind: "DryRun", plan };

  let sessions: SessionCheckResult | undefined;
  let routes: RouteCheckResult | undefined;
  if (step.requiresEstablishedSessions) {
    const relied = findSessionsToConfirm(
      viewRoutes(before),
      viewRoutes(applyActions(before, step.actions)),
    );
    sessions = await deps.sessions.waitForSessions(relied.sessions, signal);
    if (sessions.missing.length > 0) return { kind: "AwaitingSessions", plan, sessions };
    if (relied.handovers.length > 0) {
      routes = await deps.sessions.waitForRoutes(
        { handovers: relied.handovers, exempt: relied.exempt },
        signal,
      );
      if (routes.missing.length > 0) return { kind: "AwaitingRoutes", plan, sessions, routes };
    }
  }
  const execution = await executeStep(step, before, { ...deps, ...(signal ? { signal } : {}) });
  await waitForObserved(deps.view, execution.results, {
    clock: deps.clock,
    timeoutMs: deps.observeTimeoutMs ?? 30_000,
    ...(signal ? { signal } : {}),
  });
  return {
    kind: "StepApplied",
    plan,
    step,
    execution,
    ...(sessions === undefined ? {} : { sessions }),
    ...(routes === undefined ? {} : { routes }),
  };
}
