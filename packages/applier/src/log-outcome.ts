import type { ReconcileOutcome } from "./reconcile-cluster.js";
import type { ApplierLogger } from "./applier-logger.js";
import type { Decision } from "@rrfleet/topology-core";

const WAIT_MESSAGES = {
  AwaitingSessions:
    "BGP sessions the next step relies on are not Established yet; holding it until they are",
  AwaitingRoutes:
    "nodes the next step takes BGP sessions from do not have their routes over the sessions they keep yet; holding it until they do",
} as const;

/**
 * Logs reconcile outcomes the way operators read them: every applied step and the sessions
 * confirmed before it, and transitions only for the quiet outcomes — "converged" once when a
 * cluster gets there, the interlock's refusal once when it starts, a wait for sessions once when
 * it starts (then at debug level on every re-check), a dry run's plan when it changes.
 * One instance per process; it remembers each cluster's last outcome.
 */
export function createOutcomeLog(): (
  logger: ApplierLogger,
  cluster: string,
  outcome: ReconcileOutcome,
) => void {
  const last = new Map<string, { kind: ReconcileOutcome["kind"]; dryRunPlan?: string }>();
  return (logger, cluster, outcome) => {
    const previous = last.get(cluster);
    last.set(cluster, {
      kind: outcome.kind,
      ...(previous?.dryRunPlan === undefined ? {} : { dryRunPlan: previous.dryRunPlan }),
    });
    switch (outcome.kind) {
      case "AwaitingSessions":
      case "AwaitingRoutes": {
        const missing: readonly unknown[] =
          outcome.kind === "AwaitingSessions" ? outcome.sessions.missing : outcome.routes.missing;
        const fields = {
          next: outcome.plan.steps[0]?.reason,
          missing: missing.length,
          sample: missing.slice(0, 5),
        };
        // A wait is news when it starts, and routine while it lasts.
        if (previous?.kind === outcome.kind) logger.debug(fields, WAIT_MESSAGES[outcome.kind]);
        else logger.warn(fields, WAIT_MESSAGES[outcome.kind]);
        return;
      }
      case "StepApplied": {
        const { plan, step, execution, sessions, routes } = outcome;
        logger.info(
          {
            reason: step.reason,
            actions: step.actions.length,
            stepsLeft: plan.steps.length - 1,
            rateLimitWaitMs: execution.rateLimitWaitMs,
            // Why the design changes reflectors (the first few), so the log answers "why this node".
            ...describeRoleDecisions(plan.decisions),
            ...(sessions === undefined
              ? {}
              : {
                  sessionsEstablished: sessions.established,
                  sessionsMissing: sessions.missing.length,
                  sessionsUnverifiable: sessions.unverifiable.length,
                }),
            ...(routes === undefined
              ? {}
              : {
                  routesConfirmedNodes: routes.confirmed,
                  routesUncheckedNodes: routes.unchecked,
                  ...(routes.unverifiable === undefined
                    ? {}
                    : { routesUnverifiable: routes.unverifiable }),
                }),
          },
          `applied step: ${step.description}`,
        );
        return;
      }
      case "Converged":
        if (previous?.kind !== "Converged") {
          const { summary } = outcome.plan;
          logger.info(
            {
              reflectors: summary.reflectors,
              sessions: summary.sessions,
              fullMeshSessions: summary.fullMeshSessions,
              meshEnabled: summary.meshEnabled,
              verdict: summary.analysis.verdict,
            },
            "converged",
          );
        }
        return;
      case "Blocked":
        if (previous?.kind !== "Blocked") {
          logger.error(
            { refused: outcome.plan.summary.analysis.refusedStep },
            "the next step would lose routes; the interlock refused it and nothing is applied",
          );
        }
        return;
      case "DryRun": {
        const { plan } = outcome;
        const fingerprint = JSON.stringify(plan.steps);
        if (fingerprint === previous?.dryRunPlan) return;
        last.set(cluster, { kind: outcome.kind, dryRunPlan: fingerprint });
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
        return;
      }
    }
  };
}

/** The design's promotions and demotions as short log fields (at most 10), or none. */
function describeRoleDecisions(decisions: readonly Decision[]): { decisions?: string[] } {
  const changes = decisions.flatMap((d) =>
    d.kind === "promote" || d.kind === "demote" ? [`${d.kind} ${d.node}: ${d.message}`] : [],
  );
  return changes.length === 0 ? {} : { decisions: changes.slice(0, 10) };
}
