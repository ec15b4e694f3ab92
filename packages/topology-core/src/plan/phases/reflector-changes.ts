import type { AnalysisCache } from "../../analysis/peerings.js";
import type { ClusterSnapshot } from "../../model/cluster.js";
import { isValidClusterId } from "../../model/ipv4.js";
import { REFLECTOR_LABEL } from "../../model/names.js";
import { isObservedReflector } from "../../topology/select-reflectors.js";
import { count, listNames } from "../describe-steps.js";
import { findSessionPartners } from "../find-session-partners.js";
import type { StepDraft } from "../order-step.js";
import { isClientNow, type PlanningRun } from "../planning-run.js";
import { createStepBuilder } from "../step-builder.js";
import { groupIntoWaves, takeInWaves } from "../take-in-waves.js";
import { untangleDemotions } from "../untangle-demotions.js";

/**
 * Phase 1b: a reflector on its way out that shares its cluster ID with another reflector (now or
 * in the design) shadows it: reflections carrying that ID are dropped at both, so new sessions
 * can hide routes behind it. Such reflectors are demoted first, wherever that alone loses nothing.
 */
export function planShadowingDemotions(run: PlanningRun): void {
  if (run.reflectorish.length === 0) return;
  const held = new Map<string, number>();
  for (const node of run.state.nodes) {
    const id = node.routeReflectorClusterId;
    if (isValidClusterId(id)) held.set(id, (held.get(id) ?? 0) + 1);
  }
  const designedIds = new Set(run.desired.clusterIds.values());
  const shadowing = run
    .reflectorishNow()
    .filter((node) => {
      const id = node.routeReflectorClusterId;
      return (
        !run.desired.clusterIds.has(node.name) &&
        isValidClusterId(id) &&
        (designedIds.has(id) || (held.get(id) ?? 0) > 1)
      );
    })
    .map((node) => [node.name]);
  takeInWaves(
    run,
    shadowing,
    (wave) => demotionStep(run, wave),
    false,
    (stuck) => untangleDemotions(run, stuck),
  );
}

/**
 * Phase 3: promote reflectors (or give them a new cluster ID) in waves. Returns the ones whose
 * promotion would lose routes now (say their cluster ID is still held by a reflector on its way
 * out): they wait for {@link planDemotions}.
 */
export function planPromotions(run: PlanningRun): string[] {
  const toPromote = run.desired.reflectors
    .filter((r) => run.nodeNamed(r.node)?.routeReflectorClusterId !== r.clusterId)
    .map((r) => r.node);
  return takeInWaves(
    run,
    promotionWaves(run.state, toPromote, run.cache),
    (wave) => promotionStep(run, wave),
    false,
  );
}

/**
 * Phase 6: demote reflectors that go, in waves that touch each client once, untangling those that
 * can only go together; then the promotions that had to wait (`deferred`).
 */
export function planDemotions(run: PlanningRun, deferred: readonly string[]): void {
  const leaving = run
    .reflectorishNow()
    .filter((node) => isObservedReflector(node) && !run.desired.clusterIds.has(node.name))
    .map((node) => node.name);
  takeInWaves(
    run,
    groupIntoWaves(leaving, findSessionPartners(run.state, leaving, isClientNow, run.cache)),
    (wave) => demotionStep(run, wave),
    true,
    (stuck) => untangleDemotions(run, stuck),
  );
  takeInWaves(
    run,
    promotionWaves(run.state, deferred, run.cache),
    (wave) => promotionStep(run, wave),
    true,
  );
}

/** Annotating a wave of reflectors with their designed cluster IDs. */
function promotionStep(run: PlanningRun, wave: readonly string[]): StepDraft {
  const builder = createStepBuilder();
  for (const name of wave) builder.annotate(name, run.desired.clusterIds.get(name) ?? null);
  const names = wave.map((name) => `${name} (${run.desired.clusterIds.get(name) ?? ""})`);
  return (
    builder.build(
      "PromoteReflectors",
      `promote ${count(wave.length, "reflector")}: ${listNames(names)}`,
    ) ?? fail()
  );
}

/**
 * A demotion is two writes per node, the cluster ID first and the labels after, so a reflector
 * stops reflecting while it still has its sessions: two leaving reflectors sharing a cluster ID,
 * which each need the other to stay a reflector or be gone, can then go one after the other.
 */
function demotionStep(run: PlanningRun, wave: readonly string[]): StepDraft {
  const builder = createStepBuilder();
  for (const name of wave) {
    const node = run.nodeNamed(name);
    if (node?.routeReflectorClusterId !== undefined) builder.annotate(name, null);
    if (node?.labels[REFLECTOR_LABEL] !== undefined) builder.label(name, REFLECTOR_LABEL, null);
  }
  return (
    builder.build(
      "DemoteReflectors",
      `demote ${count(wave.length, "reflector")}: ${listNames(wave)}`,
    ) ?? fail()
  );
}

/**
 * Promotion waves. While the mesh is on it carries every client's routes, and a reflector
 * promoted alone would leave the mesh with nobody to reflect its own routes: promote them all
 * together. With the mesh off, waves keep each client to one changed reflector session per step.
 */
function promotionWaves(
  state: ClusterSnapshot,
  names: readonly string[],
  cache: AnalysisCache,
): string[][] {
  if (names.length === 0) return [];
  return state.bgpConfiguration.nodeToNodeMeshEnabled
    ? [[...names]]
    : groupIntoWaves(names, findSessionPartners(state, names, isClientNow, cache));
}

function fail(): never {
  throw new Error("planSteps: a promotion or demotion step without actions");
}
