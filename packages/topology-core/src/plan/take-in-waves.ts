import type { StepDraft } from "./order-step.js";
import type { PlanningRun } from "./planning-run.js";

/**
 * Takes waves of promotions or demotions. A refused wave is retried one member at a time, and
 * refused members again after the others, for as long as that makes progress, then all
 * together; when that is stuck too, `untangle` (if given) may change what holds the members
 * back, once, and the waves are retried. Returns what could not be taken; with `final`, stuck
 * members go together even when no order of their writes is safe one by one (the state before
 * and after is checked), and what is still refused stops the plan.
 */
export function takeInWaves(
  run: PlanningRun,
  waves: readonly string[][],
  stepFor: (wave: readonly string[]) => StepDraft,
  final: boolean,
  untangle?: (stuck: readonly string[]) => boolean,
): string[] {
  let pending = waves.filter((w) => w.length > 0);
  let untangled = untangle === undefined;
  while (pending.length > 0 && run.refusal === undefined) {
    const next: string[][] = [];
    let progress = false;
    for (const wave of pending) {
      if (run.attempt(stepFor(wave)).taken) {
        progress = true;
        continue;
      }
      for (const name of wave) {
        if (wave.length > 1 && run.attempt(stepFor([name])).taken) progress = true;
        else next.push([name]);
      }
    }
    pending = next;
    if (progress || pending.length === 0) continue;
    // Members that each need the other changed (a shared cluster ID) go in one step, ordered
    // write by write where an order exists.
    const together = run.attempt(stepFor(pending.flat()));
    if (together.taken) {
      pending = [];
      continue;
    }
    // Safe together, but not write by write: untangle them, then retry.
    if (!together.unordered || untangled || untangle === undefined) break;
    untangled = true;
    if (!untangle(pending.flat())) break;
  }
  // The last resort (the planner's old behaviour): together, safe before and after though not
  // write by write. Not reached in tens of thousands of random plans since untangling; kept so
  // that a cluster untangling cannot separate still converges (see planSteps).
  if (final && pending.length > 0 && run.attempt(stepFor(pending.flat()), true).taken) pending = [];
  if (final && pending[0] !== undefined) run.accept(stepFor(pending[0]));
  return pending.flat();
}

/**
 * Greedy waves: an item joins the first wave none of whose items shares a session partner with
 * it, so no client sees two of its reflector sessions change in one step.
 */
export function groupIntoWaves(
  items: readonly string[],
  partners: ReadonlyMap<string, ReadonlySet<string>>,
): string[][] {
  const waves: { items: string[]; touched: Set<string> }[] = [];
  for (const item of items) {
    const mine = partners.get(item) ?? new Set<string>();
    let wave = waves.find((w) => ![...mine].some((p) => w.touched.has(p)));
    if (wave === undefined) {
      wave = { items: [], touched: new Set() };
      waves.push(wave);
    }
    wave.items.push(item);
    for (const p of mine) wave.touched.add(p);
  }
  return waves.map((w) => w.items);
}
