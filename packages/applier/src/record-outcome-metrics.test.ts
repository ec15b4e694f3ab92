import { DEFAULT_POLICY, planCluster } from "@rrfleet/topology-core";
import { makeCluster, makeNodes } from "@rrfleet/topology-core/testing";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createApplierMetrics } from "./metrics.js";
import { recordOutcomeMetrics } from "./record-outcome-metrics.js";

const NOW = new Date("2026-11-28T00:00:00Z");

describe("recordOutcomeMetrics", () => {
  const plan = planCluster(makeCluster(makeNodes(12)), DEFAULT_POLICY, NOW);

  async function gauges(registry: Registry): Promise<Record<string, number>> {
    const text = await registry.metrics();
    const read = (name: string) =>
      Number(new RegExp(`^${name}\\{cluster="c1"\\} (\\S+)$`, "m").exec(text)?.[1]);
    return {
      converged: read("rrfleet_cluster_converged"),
      blocked: read("rrfleet_plan_blocked"),
      pending: read("rrfleet_plan_pending_actions"),
    };
  }

  it("raises rrfleet_plan_blocked while the interlock refuses the next step, and clears it after", async () => {
    const registry = new Registry();
    const metrics = createApplierMetrics(registry);
    recordOutcomeMetrics(metrics, "c1", { kind: "Blocked", plan });
    expect(await gauges(registry)).toEqual({
      converged: 0,
      blocked: 1,
      pending: plan.summary.actions,
    });
    recordOutcomeMetrics(metrics, "c1", { kind: "Converged", plan });
    expect(await gauges(registry)).toMatchObject({ converged: 1, blocked: 0 });
  });

  it("keeps rrfleet_plan_blocked at 0 for a plan that only has steps left (dry run)", async () => {
    const registry = new Registry();
    const metrics = createApplierMetrics(registry);
    recordOutcomeMetrics(metrics, "c1", { kind: "DryRun", plan });
    expect(await gauges(registry)).toMatchObject({ converged: 0, blocked: 0 });
  });
});
