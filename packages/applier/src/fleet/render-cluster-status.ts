import type { ClusterStatus } from "@rrfleet/fleet-state";
import type { ReconcileOutcome } from "../reconcile-cluster.js";

/** What every status of one pass carries besides the outcome. */
export interface StatusBase {
  /** Epoch ms on the leader's clock. */
  readonly updatedAt: number;
  readonly nodes: number;
  readonly leaderEpoch: number;
  readonly traceparent: string;
}

/**
 * The status a cluster pass's `outcome` gives the cluster (`rrctl status`, the status page):
 * Progressing after a step or while sessions are pending, Converged, Blocked by the interlock,
 * or Progressing in a dry run. History fields (last step, convergedSince…) are added by
 * `carryStatusHistory` when it is written. Pure.
 */
export function renderClusterStatus(outcome: ReconcileOutcome, base: StatusBase): ClusterStatus {
  switch (outcome.kind) {
    case "StepApplied": {
      const { plan, step } = outcome;
      return {
        ...base,
        phase: "Progressing",
        reason: step.reason,
        message: step.description,
        reflectors: plan.summary.reflectors,
        pendingSteps: plan.steps.length - 1,
        pendingActions: plan.summary.actions - step.actions.length,
        lastStep: { reason: step.reason, message: step.description, at: base.updatedAt },
      };
    }
    case "AwaitingSessions":
      return {
        ...base,
        phase: "Progressing",
        reason: "AwaitingSessions",
        message: `${outcome.sessions.missing.length} BGP sessions the next step relies on are not Established yet`,
      };
    case "AwaitingRoutes":
      return {
        ...base,
        phase: "Progressing",
        reason: "AwaitingRoutes",
        message: `${outcome.routes.missing.length} nodes the next step takes BGP sessions from lack routes over the sessions they keep`,
      };
    case "Converged":
    case "Blocked":
    case "DryRun": {
      const { plan } = outcome;
      return {
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
      };
    }
  }
}
