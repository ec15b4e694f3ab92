import { createAnalysisCache, type AnalysisCache } from "../analysis/peerings.js";
import type { RouteView } from "../analysis/reachability-report.js";
import type { Step } from "../model/actions.js";
import type { ClusterSnapshot } from "../model/cluster.js";
import type { DesiredState } from "../render/render-desired.js";
import { planPeeringRemovals, planAddClientPeerings } from "./phases/client-peerings.js";
import { planOrphanDeletion } from "./phases/delete-orphan-peers.js";
import { planFailsafeMesh, planMeshOff } from "./phases/mesh-steps.js";
import { planPrepareReflectors } from "./phases/prepare-reflectors.js";
import {
  planDemotions,
  planPromotions,
  planShadowingDemotions,
} from "./phases/reflector-changes.js";
import { createPlanningRun, type PlanningRunOptions, type Refusal } from "./planning-run.js";

export type { Refusal } from "./planning-run.js";

/** Result of {@link planSteps}. */
export interface StepPlan {
  readonly steps: readonly Step[];
  /** The state after the last accepted step. */
  readonly final: ClusterSnapshot;
  readonly finalView: RouteView;
  /** Set when the plan stops early because the next step would lose routes. */
  readonly refusal?: Refusal;
}

/** Options of {@link planSteps}. */
export type PlanStepsOptions = PlanningRunOptions;

/**
 * Orders the changes from `observed` to `desired` make-before-break:
 *
 *  0. mesh back on first, if no reflector can serve (fail-safe) — phases/mesh-steps.ts;
 *  1. prepare: create/repair rrfleet BGPPeers (and the bootstrap BGPPeer, see below), label new
 *     reflectors (moving a leaving node off a designed key), pre-peer clients with reflectors not
 *     promoted yet (sessions to a plain node change no client's reflectors) —
 *     phases/prepare-reflectors.ts;
 *  1b. demote leaving reflectors that shadow a designed cluster ID, where that alone is safe —
 *     phases/reflector-changes.ts;
 *  2. add the remaining client peerings, one new reflector per client per step —
 *     phases/client-peerings.ts;
 *  3. promote (annotate) reflectors: in one step while the mesh is on, in waves that touch each
 *     client once while it is off; a promotion that would lose routes now waits for step 6 —
 *     phases/reflector-changes.ts;
 *  4. mesh off, once reflectors carry every route, and the bootstrap BGPPeer with it —
 *     phases/mesh-steps.ts;
 *  5. remove old client peerings, one per client per step (retried after step 6 if refused) —
 *     phases/client-peerings.ts;
 *  6. demote reflectors that go, in waves; then the promotions that waited —
 *     phases/reflector-changes.ts (untangle-demotions.ts when they can only go together);
 *  7. delete BGPPeers nobody uses — phases/delete-orphan-peers.ts.
 *
 * The phases share one {@link createPlanningRun} (planning-run.ts): the steps so far, the state
 * they lead to, and the interlock every step goes through. Steps are drafted with
 * step-builder.ts and described with describe-steps.ts; waves are taken by take-in-waves.ts.
 *
 * Every step is simulated and checked by the reachability analysis — in its end state, and in the
 * transition to it, where new and restarted BGP sessions are still down (viewTransition); a step
 * that would lose a route some pair of Ready nodes had before is refused and the plan stops there. Kubernetes applies a
 * step one write at a time, so each step's writes are also ordered so that every prefix keeps
 * those routes, and marked `inAnyOrder` when every subset does (see orderStep). A demotion is two
 * writes per node, the cluster ID first and the labels after, so a reflector stops reflecting
 * while it still has its sessions: two leaving reflectors sharing a cluster ID, which each need
 * the other to stay a reflector or be gone, can then go one after the other.
 *
 * The bootstrap BGPPeer (`rrfleet-reflector-bootstrap`, every node × every node labelled as a
 * reflector) exists only while reflectors are promoted with the mesh on, in `multi` and `zoned`.
 * A reflector leaves the mesh the moment it gets its cluster ID; without the bootstrap, nodes that
 * are not its clients would lose its routes (and it theirs) until another reflector reflects them,
 * so all promotions had to land together, which no API server can do. With it, each promoted
 * reflector already has a session with every node, so promotions land one by one in any order;
 * the mesh then goes off, and the bootstrap goes in the same step (after the mesh write), once
 * every client has its designed peerings. It adds one BGPPeer (R + 2 at most) and, for a while,
 * R sessions per node: nothing next to the mesh's N − 1. `single` needs none: every client peers
 * every reflector anyway.
 *
 * Last resort: a step whose whole keeps the routes but for which orderStep finds no safe order of
 * its writes (after untangling, for demotions) is taken as drafted, with `inAnyOrder` false, rather
 * than stopping the plan: the old behaviour. Random clusters no longer reach it; a cluster that did
 * would need leaving reflectors that depend on each other in a way neither fresh cluster IDs nor
 * sessions with every node (mesh on) can break, or, with the mesh off, where only sessions with
 * every node could (the bootstrap is not used with the mesh off: it would change many reflector
 * sessions of each client in one step).
 */
export function planSteps(
  observed: ClusterSnapshot,
  desired: DesiredState,
  cache: AnalysisCache = createAnalysisCache(),
  options: PlanStepsOptions = {},
): StepPlan {
  const run = createPlanningRun(observed, desired, cache, options);
  planFailsafeMesh(run); // 0
  planPrepareReflectors(run); // 1
  planShadowingDemotions(run); // 1b
  planAddClientPeerings(run); // 2
  const deferred = planPromotions(run); // 3
  planMeshOff(run); // 4
  const peeringsRemoved = planPeeringRemovals(run, false); // 5
  planDemotions(run, deferred); // 6
  if (!peeringsRemoved) planPeeringRemovals(run, true); // 5, again
  planOrphanDeletion(run); // 7
  const { steps, state: final, view: finalView, refusal } = run;
  return refusal === undefined ? { steps, final, finalView } : { steps, final, finalView, refusal };
}
