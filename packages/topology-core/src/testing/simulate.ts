import { findLostRoutes, viewRoutes, type MissingRoutes } from "../analysis/reachability-report.js";
import type { Action, Step } from "../model/actions.js";
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

/**
 * Every state an executor passes through when it applies `actions` one write at a time, in the
 * listed order: the start, then the state after each action.
 */
export function simulateActions(
  start: ClusterSnapshot,
  actions: readonly Action[],
): ClusterSnapshot[] {
  const states = [start];
  let state = start;
  for (const action of actions) {
    state = applyActions(state, [action]);
    states.push(state);
  }
  return states;
}

/** Where applying a step's actions one by one first loses a route Ready nodes had before it. */
export interface UnsafePrefix {
  /** Actions applied when the route went missing (1 = after the first). */
  readonly applied: number;
  readonly lost: MissingRoutes;
}

/**
 * The first prefix of `actions` (in listed order) after which some Ready pair lacks a route it
 * had in `start`, or undefined when every prefix keeps them all.
 */
export function findUnsafePrefix(
  start: ClusterSnapshot,
  actions: readonly Action[],
): UnsafePrefix | undefined {
  const before = viewRoutes(start);
  const states = simulateActions(start, actions);
  for (let i = 1; i < states.length; i++) {
    const lost = findLostRoutes(before, viewRoutes(states[i] ?? start));
    if (lost.pairs > 0) return { applied: i, lost };
  }
  return undefined;
}
