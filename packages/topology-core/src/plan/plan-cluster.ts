import {
  countSessions,
  findFragileReflectors,
  findMissingRoutes,
  type MissingRoutes,
} from "../analysis/reachability-report.js";
import { countPathsPerPrefix } from "../analysis/count-paths.js";
import { createAnalysisCache } from "../analysis/peerings.js";
import { buildSessionGraph } from "../analysis/session-graph.js";
import type { Step } from "../model/actions.js";
import type { ClusterSnapshot } from "../model/cluster.js";
import type { Decision } from "../model/decisions.js";
import { isOwnedByRrfleet } from "../model/names.js";
import type { Policy, Topology } from "../policy/policy.js";
import { renderDesired } from "../render/render-desired.js";
import { designTopology, type TopologyDesign } from "./design-topology.js";
import { planSteps, type Refusal } from "./plan-steps.js";

/** A reflector of the plan's target topology. */
export interface PlannedReflector {
  readonly node: string;
  readonly clusterId: string;
  readonly zone: string;
  readonly key: string;
  readonly ready: boolean;
  /** Clients peering with it in the target topology. */
  readonly clients: number;
}

/** The safety verdict of a plan. */
export interface Analysis {
  /** `Safe`: all checks pass; `Degraded`: reachable, but some single reflector loss would cut routes; `Unsafe`: routes are or would be missing. */
  readonly verdict: "Safe" | "Degraded" | "Unsafe";
  /**
   * Every step keeps every route Ready nodes had before it, and so does every prefix of its
   * writes in the listed order (steps the interlock refused are not in the plan; see planSteps
   * for the one last resort that checks a step only as a whole).
   */
  readonly everyStepKeepsRoutes: boolean;
  /** In the state after the last step, every Ready node learns every other Ready node's routes. */
  readonly finalReachable: boolean;
  readonly missingRoutes: MissingRoutes;
  /** Reflectors whose loss alone would cut routes between Ready nodes in the final state. */
  readonly fragileReflectors: readonly string[];
  readonly survivesAnySingleReflectorLoss: boolean;
  /** The step the interlock refused, if any: the plan stops before it. */
  readonly refusedStep?: Refusal;
}

/** Counts a person reads first. */
export interface PlanSummary {
  readonly topology: Topology;
  readonly nodes: number;
  readonly readyNodes: number;
  readonly eligibleNodes: number;
  readonly reflectors: number;
  readonly meshEnabled: boolean;
  /** rrfleet BGPPeers in the final state (at most reflectors + 2). */
  readonly bgpPeers: number;
  readonly foreignBgpPeers: number;
  /** Node pairs with a BGP session in the final state, and under a full mesh. */
  readonly sessions: number;
  readonly fullMeshSessions: number;
  readonly clientsPerReflector: {
    readonly min: number;
    readonly max: number;
    readonly bound: number;
  };
  readonly actions: number;
  readonly converged: boolean;
  /**
   * The most BGP paths any node holds for one prefix in the final state (ADD-PATH: see
   * countPathsPerPrefix); kept within the policy's maxPathsPerPrefix by designing fewer reflectors.
   */
  readonly pathsPerPrefix: number;
  /**
   * The plan changes by itself at this instant (ISO 8601) with nothing else changing: a NotReady
   * reflector's grace period ends. A controller plans again then instead of at its next resync.
   */
  readonly replanAt?: string;
  readonly analysis: Analysis;
}

/** The output of {@link planCluster}: the `rrctl plan` JSON contract. */
export interface Plan {
  readonly routeReflectors: readonly PlannedReflector[];
  readonly steps: readonly Step[];
  readonly summary: PlanSummary;
  readonly decisions: readonly Decision[];
}

/**
 * Plans one cluster: snapshot and policy in, target topology and ordered, safety-checked steps
 * out, with a reason for every decision. Pure: `now` is the only notion of time (NotReady grace).
 * Throws only on a broken invariant; bad input is rejected earlier by the policy and snapshot
 * parsers.
 */
export function planCluster(snapshot: ClusterSnapshot, policy: Policy, now: Date): Plan {
  return planDesign(snapshot, policy, designTopology(snapshot, policy, now));
}

/** The plan that takes `snapshot` to `design` (designed under `policy`). */
function planDesign(snapshot: ClusterSnapshot, policy: Policy, design: TopologyDesign): Plan {
  const { selection, observedKeys, reflectors, assignment, peerKeysOfNode, mesh } = design;
  // `single` needs no bootstrap peer: every client peers every reflector from the start.
  const desired = renderDesired(
    reflectors,
    assignment.keysByClient,
    mesh.enabled,
    snapshot.calicoApiVersion,
    { bootstrap: policy.topology !== "single", peerKeysOfNode, meshFailsafe: mesh.failsafeNow },
  );
  const cache = createAnalysisCache();
  const stepPlan = planSteps(snapshot, desired, cache, { observedKeys });

  const missingRoutes = findMissingRoutes(stepPlan.finalView);
  const fragileReflectors = reflectors.length >= 2 ? findFragileReflectors(stepPlan.finalView) : [];
  const everyStepKeepsRoutes = stepPlan.refusal === undefined;
  const finalReachable = missingRoutes.pairs === 0;
  const analysis: Analysis = {
    verdict:
      !everyStepKeepsRoutes || !finalReachable
        ? "Unsafe"
        : fragileReflectors.length > 0 || reflectors.length < 2
          ? "Degraded"
          : "Safe",
    everyStepKeepsRoutes,
    finalReachable,
    missingRoutes,
    fragileReflectors,
    survivesAnySingleReflectorLoss: reflectors.length >= 2 && fragileReflectors.length === 0,
    ...(stepPlan.refusal === undefined ? {} : { refusedStep: stepPlan.refusal }),
  };

  const loads = reflectors.map((r) => assignment.loadByKey.get(r.key) ?? 0);
  const summary: PlanSummary = {
    topology: policy.topology,
    nodes: snapshot.nodes.length,
    readyNodes: snapshot.nodes.filter((n) => n.ready).length,
    eligibleNodes: selection.eligibleCount,
    reflectors: reflectors.length,
    meshEnabled: stepPlan.final.bgpConfiguration.nodeToNodeMeshEnabled,
    bgpPeers: stepPlan.final.bgpPeers.filter((p) => isOwnedByRrfleet(p.labels)).length,
    foreignBgpPeers: stepPlan.final.bgpPeers.filter((p) => !isOwnedByRrfleet(p.labels)).length,
    sessions: countSessions(
      stepPlan.final.nodes.every((n) => n.ready)
        ? stepPlan.finalView.graph
        : buildSessionGraph(stepPlan.final, { includeNotReady: true, cache }),
    ),
    fullMeshSessions: (snapshot.nodes.length * (snapshot.nodes.length - 1)) / 2,
    clientsPerReflector: {
      min: loads.length === 0 ? 0 : Math.min(...loads),
      max: loads.length === 0 ? 0 : Math.max(...loads),
      bound: assignment.maxLoad,
    },
    actions: stepPlan.steps.reduce((n, step) => n + step.actions.length, 0),
    converged: stepPlan.steps.length === 0,
    pathsPerPrefix: countPathsPerPrefix(stepPlan.finalView.graph, 100_000).max,
    ...(selection.graceEndsAt === undefined ? {} : { replanAt: selection.graceEndsAt }),
    analysis,
  };

  return {
    routeReflectors: reflectors.map((r) => ({
      node: r.node,
      clusterId: r.clusterId,
      zone: r.zone,
      key: r.key,
      ready: r.ready,
      clients: assignment.loadByKey.get(r.key) ?? 0,
    })),
    steps: stepPlan.steps,
    summary,
    decisions: [
      ...selection.decisions,
      ...(design.sizeDecision === undefined ? [] : [design.sizeDecision]),
      mesh.decision,
    ],
  };
}
