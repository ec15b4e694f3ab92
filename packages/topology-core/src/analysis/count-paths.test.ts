import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../policy/policy.js";
import { planCluster } from "../plan/plan-cluster.js";
import { makeCluster, makeNodes, simulateSteps } from "../testing/index.js";
import { buildSessionGraph } from "./session-graph.js";
import { countPathsPerPrefix, estimatePathsPerPrefix } from "./count-paths.js";

const distinct = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ zone: "a", clusterId: i + 1 }));

describe("estimatePathsPerPrefix (ADD-PATH: reflectors pass on every path)", () => {
  it("gives one path per reflector when reflectors share a cluster ID (single): they drop each other's reflections", () => {
    const shared = Array.from({ length: 10 }, () => ({ zone: "a", clusterId: 7 }));
    expect(estimatePathsPerPrefix(shared, "single", 2)).toBe(10);
  });

  it("grows with every chain of distinct-ID reflectors when they all peer each other (multi)", () => {
    const counts = [3, 4, 5, 6].map((r) => estimatePathsPerPrefix(distinct(r), "multi", 2));
    expect(counts[0]).toBe(7);
    for (let i = 1; i < counts.length; i++)
      expect(counts[i]).toBeGreaterThan((counts[i - 1] ?? 0) * 2);
    expect(counts[3]).toBeGreaterThan(100);
  });

  it("stops counting at the limit", () => {
    expect(estimatePathsPerPrefix(distinct(12), "multi", 2, 5_000)).toBe(5_000);
  });
});

describe("countPathsPerPrefix on a planned cluster", () => {
  it("agrees with the estimate on a converged multi cluster", () => {
    const policy = { ...DEFAULT_POLICY, min: 3, max: 3 };
    const cluster = makeCluster(makeNodes(30));
    const final =
      simulateSteps(cluster, planCluster(cluster, policy, new Date(0)).steps).at(-1) ?? cluster;
    expect(countPathsPerPrefix(buildSessionGraph(final)).max).toBe(
      estimatePathsPerPrefix(distinct(3), "multi", 2),
    );
  });
});

describe("planCluster's path budget", () => {
  it("designs fewer multi reflectors than the sizing asks for when their paths would exceed maxPathsPerPrefix, and says why", () => {
    const cluster = makeCluster(makeNodes(2_000));
    const plan = planCluster(cluster, DEFAULT_POLICY, new Date(0));
    expect(plan.summary.reflectors).toBe(4);
    expect(plan.decisions).toContainEqual(
      expect.objectContaining({ kind: "size", reason: "PathBudget", reflectors: 4 }),
    );
    // Even 100,000 paths per prefix allows only 8 of the 10 the sizing asks for: ten reflectors
    // passing each other's paths on give a node over 100,000 paths to each prefix.
    const roomy = planCluster(
      cluster,
      { ...DEFAULT_POLICY, maxPathsPerPrefix: 100_000 },
      new Date(0),
    );
    expect(roomy.summary.reflectors).toBe(8);
  });
});
