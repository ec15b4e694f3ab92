import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  findFragileReflectors,
  findLostRoutes,
  findMissingRoutes,
  viewRoutes,
} from "../analysis/reachability-report.js";
import type { ClusterSnapshot } from "../model/cluster.js";
import {
  CLUSTER_ID_ANNOTATION,
  isOwnedByRrfleet,
  LABEL_PREFIX,
  REFLECTOR_LABEL,
} from "../model/names.js";
import type { Policy } from "../policy/policy.js";
import {
  ARBITRARY_NOW,
  arbitraryCluster,
  arbitraryPolicy,
  arbitraryRealisticCluster,
  countReflectorChanges,
  readAssignment,
  simulateSteps,
} from "../testing/index.js";
import { planCluster, type Plan } from "./plan-cluster.js";

const RUNS = { numRuns: Number(process.env["FC_RUNS"] ?? 150) };
/** Fewer runs for properties that plan each cluster several times. */
const SLOW_RUNS = { numRuns: Math.max(20, Math.round(RUNS.numRuns / 2.5)) };

const realistic = arbitraryRealisticCluster(
  (cluster, policy) => planAndApply(cluster, policy).final,
);

function planAndApply(cluster: ClusterSnapshot, policy: Policy) {
  const plan = planCluster(cluster, policy, ARBITRARY_NOW);
  const states = simulateSteps(cluster, plan.steps);
  return { plan, states, final: states[states.length - 1] ?? cluster };
}

function movedClients(
  before: ClusterSnapshot,
  after: ClusterSnapshot,
  ignore: ReadonlySet<string>,
): string[] {
  const a = readAssignment(before);
  const b = readAssignment(after);
  return [...b.keys()].filter(
    (name) => !ignore.has(name) && a.has(name) && a.get(name) !== b.get(name),
  );
}

describe("planCluster on random clusters", { timeout: 120_000 }, () => {
  it("never takes a step that loses a route Ready nodes had before it", () => {
    fc.assert(
      fc.property(
        arbitraryCluster({ existingReflectors: true, foreignPeers: true, meshOff: true }),
        arbitraryPolicy(),
        (cluster, policy) => {
          const { plan, states } = planAndApply(cluster, policy);
          for (let i = 1; i < states.length; i++) {
            const lost = findLostRoutes(viewRoutes(states[i - 1]!), viewRoutes(states[i]!));
            expect(lost, `step ${i}: ${plan.steps[i - 1]?.description ?? ""}`).toEqual({
              pairs: 0,
            });
          }
        },
      ),
      RUNS,
    );
  });

  it("brings realistic clusters all the way: every Ready pair reached, any single reflector loss survived when each client has two", () => {
    fc.assert(
      fc.property(realistic, arbitraryPolicy(), ({ cluster }, policy) => {
        const { plan, final } = planAndApply(cluster, policy);
        expect(plan.summary.analysis.refusedStep).toBeUndefined();
        const view = viewRoutes(final);
        expect(findMissingRoutes(view).pairs).toBe(0);
        if (plan.routeReflectors.some((r) => r.ready))
          expect(final.bgpConfiguration.nodeToNodeMeshEnabled).toBe(false);
        expect(planCluster(final, policy, ARBITRARY_NOW).steps).toEqual([]);
        const ready = plan.routeReflectors.filter((r) => r.ready).length;
        const everyoneHasTwo = policy.topology !== "multi" || policy.reflectorsPerNode >= 2;
        if (ready >= 2 && ready === plan.routeReflectors.length && everyoneHasTwo) {
          expect(findFragileReflectors(view)).toEqual([]);
        }
      }),
      RUNS,
    );
  });

  it("ends with the mesh off whenever a Ready reflector exists, and plans nothing when replanned", () => {
    fc.assert(
      fc.property(
        arbitraryCluster({ existingReflectors: true, foreignPeers: true, meshOff: true }),
        arbitraryPolicy(),
        (cluster, policy) => {
          const { plan, final } = planAndApply(cluster, policy);
          fc.pre(plan.summary.analysis.refusedStep === undefined);
          if (plan.routeReflectors.some((r) => r.ready))
            expect(final.bgpConfiguration.nodeToNodeMeshEnabled).toBe(false);
          const again = planCluster(final, policy, ARBITRARY_NOW);
          expect(again.steps.map((s) => s.description)).toEqual([]);
        },
      ),
      RUNS,
    );
  });

  it("changes at most one reflector session per client per step while the mesh is off", () => {
    fc.assert(
      fc.property(
        arbitraryCluster({ existingReflectors: true, meshOff: true }),
        arbitraryPolicy(),
        (cluster, policy) => {
          const { plan, states } = planAndApply(cluster, policy);
          for (let i = 1; i < states.length; i++) {
            const before = states[i - 1]!;
            const after = states[i]!;
            if (
              before.bgpConfiguration.nodeToNodeMeshEnabled ||
              after.bgpConfiguration.nodeToNodeMeshEnabled
            )
              continue;
            for (const [client, changes] of countReflectorChanges(before, after)) {
              expect(
                changes,
                `${client} in step ${i}: ${plan.steps[i - 1]?.description ?? ""}`,
              ).toBeLessThanOrEqual(1);
            }
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it("gives the same bytes for the same input", () => {
    fc.assert(
      fc.property(
        arbitraryCluster({ existingReflectors: true, foreignPeers: true }),
        arbitraryPolicy(),
        (cluster, policy) => {
          const a = JSON.stringify(planCluster(cluster, policy, ARBITRARY_NOW));
          const b = JSON.stringify(
            planCluster(structuredClone(cluster), { ...policy }, new Date(ARBITRARY_NOW)),
          );
          expect(b).toBe(a);
        },
      ),
      SLOW_RUNS,
    );
  });

  it("never writes what rrfleet does not own", () => {
    fc.assert(
      fc.property(
        arbitraryCluster({ existingReflectors: true, foreignPeers: true, meshOff: true }),
        arbitraryPolicy(),
        (cluster, policy) => {
          const plan = planCluster(cluster, policy, ARBITRARY_NOW);
          const foreign = new Set(
            cluster.bgpPeers.filter((p) => !isOwnedByRrfleet(p.labels)).map((p) => p.name),
          );
          for (const action of plan.steps.flatMap((s) => s.actions)) {
            if (action.kind === "BGPPeer") {
              const name = action.verb === "delete" ? action.name : action.object.metadata.name;
              expect(foreign.has(name), name).toBe(false);
              if (action.verb !== "delete")
                expect(isOwnedByRrfleet(action.object.metadata.labels)).toBe(true);
            }
            if (action.kind === "Node") {
              for (const label of Object.keys(action.patch.metadata.labels ?? {}))
                expect(label.startsWith(LABEL_PREFIX), label).toBe(true);
              expect(
                Object.keys(action.patch.metadata.annotations ?? {}).every(
                  (a) => a === CLUSTER_ID_ANNOTATION,
                ),
              ).toBe(true);
            }
          }
        },
      ),
      RUNS,
    );
  });

  it("keeps rrfleet BGPPeers at most reflectors + 2 and no reflector above ceil(1.25 × mean) clients", () => {
    fc.assert(
      fc.property(
        arbitraryCluster({ minNodes: 20, maxNodes: 300, unhealthyNodes: false }),
        arbitraryPolicy(["multi"]),
        (cluster, policy) => {
          const { plan } = planAndApply(cluster, policy);
          expect(plan.summary.bgpPeers).toBeLessThanOrEqual(plan.summary.reflectors + 2);
          const loads = plan.routeReflectors.map((r) => r.clients);
          const total = loads.reduce((a, b) => a + b, 0);
          if (loads.length > 0) {
            const bound = Math.ceil(Number(((1.25 * total) / loads.length).toPrecision(12)));
            expect(Math.max(...loads)).toBeLessThanOrEqual(bound);
          }
        },
      ),
      SLOW_RUNS,
    );
  });
});

describe("planCluster churn on converged clusters", { timeout: 120_000 }, () => {
  const converged = (cluster: ClusterSnapshot, policy: Policy): ClusterSnapshot =>
    planAndApply(cluster, policy).final;
  const churnPolicy = arbitraryPolicy(["multi", "zoned"]).map((p) => ({ ...p, min: 4, max: 4 }));

  it("moves no other client when a client is removed or added", () => {
    fc.assert(
      fc.property(
        arbitraryCluster({ minNodes: 40, maxNodes: 300, unhealthyNodes: false }),
        churnPolicy,
        fc.nat(),
        (cluster, policy, pick) => {
          const start = converged(cluster, policy);
          const reflectors = new Set(
            start.nodes.filter((n) => n.routeReflectorClusterId !== undefined).map((n) => n.name),
          );
          const clients = start.nodes.filter((n) => !reflectors.has(n.name));
          const victim = clients[pick % clients.length]!;
          const removed = converged(
            { ...start, nodes: start.nodes.filter((n) => n !== victim) },
            policy,
          );
          expect(movedClients(start, removed, new Set([victim.name]))).toEqual([]);

          const newcomer = {
            ...victim,
            name: "zz-new",
            labels: {
              ...Object.fromEntries(
                Object.entries(victim.labels).filter(([k]) => !k.startsWith(LABEL_PREFIX)),
              ),
            },
          };
          const added = converged({ ...start, nodes: [...start.nodes, newcomer] }, policy);
          expect(movedClients(start, added, new Set(["zz-new"]))).toEqual([]);
        },
      ),
      SLOW_RUNS,
    );
  });

  // `multi` only: in `zoned` a replacement may land in another zone (even spread), and every
  // client of a zone peers all of its reflectors, so a zone's clients move with its reflector set.
  it("moves at most 1.5 × its clients + 2 when a reflector is lost (multi)", () => {
    fc.assert(
      fc.property(
        arbitraryCluster({ minNodes: 40, maxNodes: 300, unhealthyNodes: false }),
        churnPolicy.filter((p) => p.topology === "multi"),
        fc.nat(),
        (cluster, policy, pick) => {
          const start = converged(cluster, policy);
          const reflectors = start.nodes.filter((n) => n.routeReflectorClusterId !== undefined);
          const lost = reflectors[pick % reflectors.length]!;
          const key = lost.labels[REFLECTOR_LABEL]!;
          const itsClients = start.nodes.filter(
            (n) => n.labels[`rrfleet.io/peer-${key}`] !== undefined,
          ).length;
          const after = converged(
            { ...start, nodes: start.nodes.filter((n) => n !== lost) },
            policy,
          );
          const moved = movedClients(start, after, new Set([lost.name]));
          expect(moved.length).toBeLessThanOrEqual(1.5 * itsClients + 2);
        },
      ),
      SLOW_RUNS,
    );
  });
});

export type { Plan };
