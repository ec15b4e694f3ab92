import {
  countSessions,
  findFragileReflectors,
  findMissingRoutes,
  type MissingRoutes,
} from "../analysis/reachability-report.js";
import { isValidClusterId } from "../model/ipv4.js";
import { createAnalysisCache } from "../analysis/peerings.js";
import { buildSessionGraph } from "../analysis/session-graph.js";
import type { Step } from "../model/actions.js";
import type { ClusterSnapshot } from "../model/cluster.js";
import type { Decision, MeshReason } from "../model/decisions.js";
import { isOwnedByRrfleet, readPeerKeys, REFLECTOR_LABEL } from "../model/names.js";
import type { Policy, Topology } from "../policy/policy.js";
import { renderDesired } from "../render/render-desired.js";
import { parseLabelSelector } from "../selectors/label-selector.js";
import { allocateIdentities } from "../topology/allocate-identities.js";
import { assignClients, type ClientInput } from "../topology/assign-clients.js";
import { selectReflectors, zoneOf } from "../topology/select-reflectors.js";
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
  const selection = selectReflectors(
    snapshot.nodes,
    {
      ...policy,
      exclude:
        policy.excludeNodeSelector === undefined
          ? undefined
          : parseLabelSelector(policy.excludeNodeSelector),
      prefer:
        policy.preferNodeSelector === undefined
          ? undefined
          : parseLabelSelector(policy.preferNodeSelector),
    },
    now,
  );
  // Each node's client labels, read once for every phase below.
  const observedKeys = snapshot.nodes.map((node) => readPeerKeys(node.labels));
  const reflectors = allocateIdentities(
    selection.reflectors,
    snapshot.nodes,
    snapshot.bgpPeers,
    policy.topology,
    policy.clusterIdBase,
    observedKeys,
  );
  const reflectorNames = new Set(reflectors.map((r) => r.node));
  const stillDesigned = keptKeys(snapshot, reflectors);
  const clients: ClientInput[] = [];
  const nodeOfClient: number[] = [];
  snapshot.nodes.forEach((node, i) => {
    if (reflectorNames.has(node.name)) return;
    const keys = observedKeys[i] ?? [];
    clients.push({
      name: node.name,
      zone: zoneOf(node, policy.zoneLabel),
      currentKeys: keys.length === 0 ? keys : keys.filter((key) => stillDesigned.has(key)),
    });
    nodeOfClient.push(i);
  });
  const assignment = assignClients(clients, reflectors, policy);
  const peerKeysOfNode = new Array<readonly string[] | undefined>(snapshot.nodes.length);
  assignment.keysOfClient.forEach((keys, ci) => {
    peerKeysOfNode[nodeOfClient[ci] ?? -1] = keys;
  });

  const mesh = decideMesh(
    snapshot,
    reflectors.some((r) => r.ready),
    policy.meshFailsafeMaxNodes,
  );
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
    decisions: [...selection.decisions, mesh.decision],
  };
}

/**
 * The mesh: off in the target when a designed reflector is Ready; on when none is (the fail-safe,
 * up to `failsafeMaxNodes`). Independently, `failsafeNow`: the mesh is off and no reflector the
 * cluster has now (Ready, with a valid cluster ID) serves — say every reflector node was deleted
 * at once. New reflectors take a whole rollout to carry routes, so the mesh comes back first
 * (same size limit) and goes off again once they do.
 */
function decideMesh(
  snapshot: ClusterSnapshot,
  anyReflectorServes: boolean,
  failsafeMaxNodes: number,
): { enabled: boolean; failsafeNow: boolean; decision: Decision } {
  const withinLimit = snapshot.nodes.length <= failsafeMaxNodes;
  const current = snapshot.bgpConfiguration.nodeToNodeMeshEnabled;
  const servingNow = snapshot.nodes.some(
    (node) => node.ready && isValidClusterId(node.routeReflectorClusterId),
  );
  const failsafeNow = withinLimit && !current && !servingNow;
  const mesh = (enabled: boolean, reason: MeshReason, message: string) => ({
    enabled,
    failsafeNow,
    decision: { kind: "mesh" as const, enabled, reason, message },
  });
  if (anyReflectorServes) {
    return failsafeNow
      ? mesh(
          false,
          "NoReflectorServesYet",
          "no reflector serves now: the node-to-node mesh goes back on until the new reflectors carry every route, then off",
        )
      : mesh(
          false,
          "ReflectorsServeAllNodes",
          "reflectors carry every route; the node-to-node mesh is off",
        );
  }
  if (withinLimit) {
    return mesh(
      true,
      "NoReflectorCanServe",
      "no Ready reflector can serve; the node-to-node mesh stays or goes back on",
    );
  }
  return mesh(
    current,
    "FailsafeSizeLimitExceeded",
    `no Ready reflector can serve, but ${snapshot.nodes.length} nodes exceed meshFailsafeMaxNodes (${failsafeMaxNodes}); the mesh is left ${current ? "on" : "off"}`,
  );
}

/**
 * Keys of designed reflectors that the same node carries now: a client label naming one of them
 * is a current choice worth keeping; a label naming a key that moved or went is stale.
 */
function keptKeys(
  snapshot: ClusterSnapshot,
  reflectors: readonly { node: string; key: string }[],
): Set<string> {
  const designed = new Map(reflectors.map((r) => [r.node, r.key]));
  const kept = new Set<string>();
  for (const node of snapshot.nodes) {
    const key = node.labels[REFLECTOR_LABEL];
    if (key !== undefined && designed.get(node.name) === key) kept.add(key);
  }
  return kept;
}
