import { expect } from "vitest";
import { describeGaps, type ScenarioResult } from "./measure-scenario.js";
import type { BgpLab } from "./start-bgp-lab.js";

/** A reflector's own block while its own sessions restart: seconds, not minutes (NOTES: up to 62 s). */
export const OWN_BLOCK_BOUND_MS = 90_000;

/**
 * Every BGP scenario's verdict: no route gap but own-block ones, those bounded; at rest the lab's
 * sessions and routes equal the model's, and BIRD holds the paths per prefix the model predicts
 * under ADD-PATH — up to copies of a path that a session flap left under a new path ID (seen: 12
 * where the model said 7); and the lab saw nothing go wrong.
 */
export function expectCleanScenario(result: ScenarioResult, lab: BgpLab): void {
  expect(result.report.longestMs, `route gaps:\n${describeGaps(result.report)}`).toBe(0);
  expect(result.report.longestOwnBlockMs).toBeLessThan(OWN_BLOCK_BOUND_MS);
  expect(result.comparison, JSON.stringify(result.comparison)).toMatchObject({
    onlyInModel: [],
    onlyInLab: [],
    modelMissingRoutes: 0,
    labFullyRouted: true,
  });
  expect(result.comparison.labPathsPerPrefix).toBeGreaterThanOrEqual(
    result.comparison.modelPathsPerPrefix,
  );
  expect(result.comparison.labPathsPerPrefix).toBeLessThanOrEqual(
    2 * result.comparison.modelPathsPerPrefix,
  );
  expect(lab.problems()).toEqual([]);
}
