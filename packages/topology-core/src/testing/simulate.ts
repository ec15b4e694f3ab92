import type { Step } from "../model/actions.js";
import type { ClusterSnapshot } from "../model/cluster.js";
import { applyActions } from "../plan/apply-actions.js";

/** Every state a plan passes through: the start, then the state after each step. */
export function simulateSteps(start: ClusterSnapshot, steps: readonly Step[]): ClusterSnapshot[] {
  const states = [start];
  let state = start;
  for (const step of steps) {
    state = applyActions(state, step.actions);
    states.push(state);
  }
  return states;
}
