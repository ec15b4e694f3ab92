import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/**
 * The applier's Prometheus metrics, registered on the process's private registry. Label values
 * come from closed sets: cluster names from the configuration, verbs, kinds, step reasons,
 * outcome kinds and error codes — never node names.
 */
export interface ApplierMetrics {
  readonly reconcileDuration: Histogram<"cluster" | "outcome">;
  readonly actionsApplied: Counter<"cluster" | "verb" | "kind">;
  readonly stepsApplied: Counter<"cluster" | "reason">;
  readonly writeErrors: Counter<"cluster" | "code">;
  readonly rateLimitWait: Histogram<"cluster">;
  readonly clusterConverged: Gauge<"cluster">;
  readonly planBlocked: Gauge<"cluster">;
  readonly pendingActions: Gauge<"cluster">;
  readonly reflectors: Gauge<"cluster">;
  readonly unconfirmedSessions: Gauge<"cluster">;
  readonly routesNotHandedOver: Gauge<"cluster">;
}

/** Creates and registers {@link ApplierMetrics} (prefix `rrfleet_`, units in the names). */
export function createApplierMetrics(registry: Registry): ApplierMetrics {
  const registers = [registry];
  return {
    reconcileDuration: new Histogram({
      name: "rrfleet_reconcile_duration_seconds",
      help: "Time of one reconcile pass (plan, and the step it applied with its waits), by outcome.",
      labelNames: ["cluster", "outcome"],
      buckets: [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    }),
    actionsApplied: new Counter({
      name: "rrfleet_plan_actions_applied_total",
      help: "Planner actions written to a cluster, by verb and kind.",
      labelNames: ["cluster", "verb", "kind"],
      registers,
    }),
    stepsApplied: new Counter({
      name: "rrfleet_plan_steps_applied_total",
      help: "Plan steps applied, by the planner's reason.",
      labelNames: ["cluster", "reason"],
      registers,
    }),
    writeErrors: new Counter({
      name: "rrfleet_write_errors_total",
      help: "Failed reconcile passes, by the error code (KubeError codes, Aborted, Internal).",
      labelNames: ["cluster", "code"],
      registers,
    }),
    rateLimitWait: new Histogram({
      name: "rrfleet_rate_limit_wait_seconds",
      help: "Time a step waited for the cluster's write budget.",
      labelNames: ["cluster"],
      buckets: [0, 0.01, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers,
    }),
    clusterConverged: new Gauge({
      name: "rrfleet_cluster_converged",
      help: "1 when the last plan of the cluster had no step, else 0.",
      labelNames: ["cluster"],
      registers,
    }),
    planBlocked: new Gauge({
      name: "rrfleet_plan_blocked",
      help: "1 while the safety interlock refuses the next step of the cluster's plan (it would lose routes), else 0.",
      labelNames: ["cluster"],
      registers,
    }),
    pendingActions: new Gauge({
      name: "rrfleet_plan_pending_actions",
      help: "Actions of the cluster's last plan still to apply.",
      labelNames: ["cluster"],
      registers,
    }),
    reflectors: new Gauge({
      name: "rrfleet_route_reflectors",
      help: "Route reflectors of the cluster's target topology.",
      labelNames: ["cluster"],
      registers,
    }),
    unconfirmedSessions: new Gauge({
      name: "rrfleet_unconfirmed_sessions",
      help: "BGP sessions a step opened that are not yet seen Established; nothing is removed until they are.",
      labelNames: ["cluster"],
      registers,
    }),
    routesNotHandedOver: new Gauge({
      name: "rrfleet_routes_not_handed_over",
      help: "Nodes (of those checked) that lack some route over the BGP sessions the next step keeps; nothing is removed until they have them.",
      labelNames: ["cluster"],
      registers,
    }),
  };
}
