import type { ApplierMetrics } from "./metrics.js";
import type { ReconcileOutcome } from "./reconcile-cluster.js";

/**
 * Updates a cluster's reconcile metrics after one pass, the same way in embedded and fleet mode.
 */
export function recordOutcomeMetrics(
  metrics: ApplierMetrics,
  cluster: string,
  outcome: ReconcileOutcome,
): void {
  switch (outcome.kind) {
    case "AwaitingSessions":
      metrics.unconfirmedSessions.set({ cluster }, outcome.sessions.missing.length);
      metrics.routesNotHandedOver.set({ cluster }, 0);
      return;
    case "AwaitingRoutes":
      metrics.unconfirmedSessions.set({ cluster }, 0);
      metrics.routesNotHandedOver.set({ cluster }, outcome.routes.missing.length);
      return;
    case "StepApplied": {
      const { plan, step, execution, sessions } = outcome;
      metrics.stepsApplied.inc({ cluster, reason: step.reason });
      metrics.rateLimitWait.observe({ cluster }, execution.rateLimitWaitMs / 1000);
      metrics.pendingActions.set({ cluster }, plan.summary.actions - step.actions.length);
      metrics.reflectors.set({ cluster }, plan.summary.reflectors);
      metrics.clusterConverged.set({ cluster }, 0);
      metrics.planBlocked.set({ cluster }, 0);
      metrics.unconfirmedSessions.set({ cluster }, sessions?.missing.length ?? 0);
      metrics.routesNotHandedOver.set({ cluster }, 0);
      return;
    }
    case "Converged":
    case "Blocked":
    case "DryRun":
      metrics.clusterConverged.set({ cluster }, outcome.kind === "Converged" ? 1 : 0);
      metrics.planBlocked.set({ cluster }, outcome.kind === "Blocked" ? 1 : 0);
      metrics.pendingActions.set({ cluster }, outcome.plan.summary.actions);
      metrics.reflectors.set({ cluster }, outcome.plan.summary.reflectors);
      metrics.unconfirmedSessions.set({ cluster }, 0);
      metrics.routesNotHandedOver.set({ cluster }, 0);
      return;
  }
}
