import { it } from "vitest";
import { DEFAULT_POLICY } from "../policy/policy.js";
import { makeCluster, makeNodes, simulateSteps } from "../testing/index.js";
import { planCluster } from "./plan-cluster.js";

it("perf", () => {
  for (const n of [1000, 5000, 20000]) {
    const cluster = makeCluster(makeNodes(n));
    const now = new Date("2026-01-01T00:00:00Z");
    let t = performance.now();
    const plan = planCluster(cluster, DEFAULT_POLICY, now);
    const fresh = performance.now() - t;
    const final = simulateSteps(cluster, plan.steps).at(-1)!;
    t = performance.now();
    const again = planCluster(final, DEFAULT_POLICY, now);
    const steady = performance.now() - t;
    console.log(n, "fresh ms", fresh.toFixed(1), "steps", plan.steps.length, "steady ms", steady.toFixed(1), again.steps.length, plan.summary.analysis.verdict);
  }
});
