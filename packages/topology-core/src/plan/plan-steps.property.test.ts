import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findLostRoutes, findMissingRoutes, viewRoutes } from "../analysis/reachability-report.js";
import type { Step } from "../model/actions.js";
import type { ClusterSnapshot } from "../model/cluster.js";
import { BOOTSTRAP_PEER_NAME, isOwnedByRrfleet } from "../model/names.js";
import type { Policy } from "../policy/policy.js";
import {
  ARBITRARY_NOW,
  arbitraryCluster,
  arbitraryPolicy,
  arbitraryRealisticCluster,
  findUnsafePrefix,
  simulateActions,
  simulateSteps,
} from "../testing/index.js";
import { applyActions } from "./apply-actions.js";
import { planCluster } from "./plan-cluster.js";

// What an executor that applies a plan against a real API server sees: Kubernetes has no
// multi-object transactions, so every write of a step lands alone and Calico reacts to each.
// These properties check the states between writes, not only between steps.

const RUNS = { numRuns: Number(process.env["FC_RUNS"] ?? 150) };
const SLOW_RUNS = { numRuns: Math.max(20, Math.round(RUNS.numRuns / 2.5)) };

const realistic = arbitraryRealisticCluster(
  (cluster, policy) =>
    simulateSteps(cluster, planCluster(cluster, policy, ARBITRARY_NOW).steps).at(-1) ?? cluster,
);

function expectEveryPrefixSafe(start: ClusterSnapshot, steps: readonly Step[]): void {
  let state = start;
  steps.forEach((step, i) => {
    const unsafe = findUnsafePrefix(state, step.actions);
    expect(
      unsafe,
      `step ${i + 1} (${step.reason}: ${step.description}) loses routes after ${unsafe?.applied ?? 0} of ${step.actions.length} actions`,
    ).toBeUndefined();
    state = applyActions(state, step.actions);
  });
}

/** A small deterministic generator for subsets (fast-check supplies the seed). */
function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Outcome of driving a cluster by applying only the first step of each new plan. */
interface LevelTriggeredRun {
  readonly final: ClusterSnapshot;
  readonly rounds: number;
  readonly lastPlan: ReturnType<typeof planCluster>;
}

/**
 * Level-triggered execution: plan, apply only the first step (one write at a time, checking every
 * intermediate state), replan from the result; until a plan has no steps or `maxRounds` pass.
 */
function runLevelTriggered(
  start: ClusterSnapshot,
  policy: Policy,
  maxRounds: number,
): LevelTriggeredRun {
  let state = start;
  for (let rounds = 0; ; rounds++) {
    const plan = planCluster(state, policy, ARBITRARY_NOW);
    const step = plan.steps[0];
    if (step === undefined) return { final: state, rounds, lastPlan: plan };
    expect(rounds, `no convergence; next: ${step.reason}: ${step.description}`).toBeLessThan(
      maxRounds,
    );
    const unsafe = findUnsafePrefix(state, step.actions);
    expect(
      unsafe,
      `round ${rounds + 1} (${step.reason}: ${step.description}) loses routes after ${unsafe?.applied ?? 0} actions`,
    ).toBeUndefined();
    state = applyActions(state, step.actions);
  }
}

function expectConvergedDesign(run: LevelTriggeredRun): void {
  expect(run.lastPlan.summary.analysis.refusedStep).toBeUndefined();
  expect(findMissingRoutes(viewRoutes(run.final)).pairs).toBe(0);
  if (run.lastPlan.routeReflectors.some((r) => r.ready))
    expect(run.final.bgpConfiguration.nodeToNodeMeshEnabled).toBe(false);
  expect(run.final.bgpPeers.map((p) => p.name)).not.toContain(BOOTSTRAP_PEER_NAME);
}

describe("planCluster step by step, write by write", { timeout: 300_000 }, () => {
  it("keeps every route after every prefix of every step, on any cluster", () => {
    fc.assert(
      fc.property(
        arbitraryCluster({ existingReflectors: true, foreignPeers: true, meshOff: true }),
        arbitraryPolicy(),
        (cluster, policy) => {
          expectEveryPrefixSafe(cluster, planCluster(cluster, policy, ARBITRARY_NOW).steps);
        },
      ),
      RUNS,
    );
  });

  it("keeps every route after every prefix of every step, on realistic clusters of all three topologies", () => {
    fc.assert(
      fc.property(realistic, arbitraryPolicy(), ({ cluster }, policy) => {
        expectEveryPrefixSafe(cluster, planCluster(cluster, policy, ARBITRARY_NOW).steps);
      }),
      RUNS,
    );
  });

  it("keeps every route under any subset of a step marked inAnyOrder", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          realistic.map((r) => r.cluster),
          arbitraryCluster({ existingReflectors: true, foreignPeers: true, meshOff: true }),
        ),
        arbitraryPolicy(),
        fc.integer(),
        (cluster, policy, seed) => {
          const random = createRandom(seed);
          const plan = planCluster(cluster, policy, ARBITRARY_NOW);
          let state = cluster;
          for (const step of plan.steps) {
            if (step.inAnyOrder) {
              const before = viewRoutes(state);
              for (let trial = 0; trial < 4; trial++) {
                const keep = random();
                const subset = step.actions.filter(() => random() < keep);
                // Any order, too: the subset reversed lands in the same state only if no two
                // actions touch one object, which the planner promises within a step.
                const after = applyActions(state, [...subset].reverse());
                expect(
                  findLostRoutes(before, viewRoutes(after)),
                  `${step.reason}: ${subset.length} of ${step.actions.length} actions`,
                ).toEqual({ pairs: 0 });
              }
            }
            state = applyActions(state, step.actions);
          }
        },
      ),
      RUNS,
    );
  });

  it("converges when only the first step of each new plan is applied, never losing a route", () => {
    fc.assert(
      fc.property(realistic, arbitraryPolicy(), ({ cluster }, policy) => {
        const first = planCluster(cluster, policy, ARBITRARY_NOW);
        const run = runLevelTriggered(cluster, policy, 3 * first.steps.length + 5);
        expectConvergedDesign(run);
      }),
      SLOW_RUNS,
    );
  });

  it("converges level-triggered on any cluster too, to the design unless the interlock refuses", () => {
    fc.assert(
      fc.property(
        arbitraryCluster({ existingReflectors: true, foreignPeers: true, meshOff: true }),
        arbitraryPolicy(),
        (cluster, policy) => {
          const first = planCluster(cluster, policy, ARBITRARY_NOW);
          const run = runLevelTriggered(cluster, policy, 3 * first.steps.length + 5);
          if (run.lastPlan.summary.analysis.refusedStep === undefined) {
            expect(run.lastPlan.summary.converged).toBe(true);
            expect(run.final.bgpPeers.map((p) => p.name)).not.toContain(BOOTSTRAP_PEER_NAME);
            if (run.lastPlan.routeReflectors.some((r) => r.ready))
              expect(run.final.bgpConfiguration.nodeToNodeMeshEnabled).toBe(false);
          }
        },
      ),
      SLOW_RUNS,
    );
  });

  it("recovers from an executor killed in the middle of a step: no route lost, converges", () => {
    fc.assert(
      fc.property(
        realistic,
        arbitraryPolicy(),
        fc.nat(),
        fc.nat(),
        ({ cluster }, policy, stepPick, cut) => {
          const plan = planCluster(cluster, policy, ARBITRARY_NOW);
          fc.pre(plan.steps.length > 0);
          const index = stepPick % plan.steps.length;
          const states = simulateSteps(cluster, plan.steps.slice(0, index));
          const before = states.at(-1) ?? cluster;
          const step = plan.steps[index]!;
          const applied = step.actions.slice(0, cut % (step.actions.length + 1));
          const killed = simulateActions(before, applied).at(-1) ?? before;
          expect(findLostRoutes(viewRoutes(before), viewRoutes(killed))).toEqual({ pairs: 0 });
          const again = planCluster(killed, policy, ARBITRARY_NOW);
          const run = runLevelTriggered(killed, policy, 3 * again.steps.length + 5);
          expectConvergedDesign(run);
        },
      ),
      SLOW_RUNS,
    );
  });

  it("keeps rrfleet BGPPeers at most reflectors + 2 in every state a fresh cluster passes through", () => {
    fc.assert(
      fc.property(
        arbitraryCluster({ minNodes: 3, maxNodes: 120, foreignPeers: true }),
        arbitraryPolicy(),
        (cluster, policy) => {
          const plan = planCluster(cluster, policy, ARBITRARY_NOW);
          let state = cluster;
          for (const step of plan.steps) {
            for (const s of simulateActions(state, step.actions)) {
              const owned = s.bgpPeers.filter((p) => isOwnedByRrfleet(p.labels)).length;
              expect(owned, step.description).toBeLessThanOrEqual(plan.summary.reflectors + 2);
            }
            state = applyActions(state, step.actions);
          }
        },
      ),
      RUNS,
    );
  });
});
