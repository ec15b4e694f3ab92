import type { ClusterSnapshot } from "../model/cluster.js";
import { formatIpv4, isValidClusterId, parseIpv4 } from "../model/ipv4.js";
import { readPeerKeys, REFLECTOR_LABEL } from "../model/names.js";
import type { DesiredState } from "../render/render-desired.js";
import { renderBootstrapPeer } from "../render/render-desired.js";
import { count, listNames } from "./describe-steps.js";
import { findSessionPartners } from "./find-session-partners.js";
import { isClientNow, type PlanningRun } from "./planning-run.js";
import { createStepBuilder } from "./step-builder.js";
import { groupIntoWaves } from "./take-in-waves.js";

/**
 * Leaving reflectors that can only go together (each carries routes the other's clients need,
 * usually through a cluster ID they share with each other or with a designed reflector) are
 * given what lets them go one at a time: first a cluster ID of their own each (a finer split of
 * IDs only drops fewer reflections), in waves that touch each client once; then, with the mesh
 * on, a session with every node (the bootstrap BGPPeer and a spare reflector key), so that
 * whichever goes first, the others still reach every node at first hand. Returns whether a step
 * was taken.
 */
export function untangleDemotions(run: PlanningRun, stuck: readonly string[]): boolean {
  let progress = false;
  const upIds = new Map<string, number>();
  for (const node of run.state.nodes) {
    const id = node.routeReflectorClusterId;
    if (node.ready && isValidClusterId(id)) upIds.set(id, (upIds.get(id) ?? 0) + 1);
  }
  const shared = stuck.filter((name) => {
    const node = run.nodeNamed(name);
    const id = node?.routeReflectorClusterId;
    return node?.ready === true && isValidClusterId(id) && (upIds.get(id) ?? 0) > 1;
  });
  if (shared.length > 0) {
    const fresh = freshClusterIds(run.state, run.desired, shared.length);
    const idOf = new Map(shared.map((name, i) => [name, fresh[i] ?? ""]));
    for (const wave of groupIntoWaves(
      shared,
      findSessionPartners(run.state, shared, isClientNow, run.cache),
    )) {
      const builder = createStepBuilder();
      for (const name of wave) builder.annotate(name, idOf.get(name) ?? null);
      const draft = builder.build(
        "DemoteReflectors",
        `give ${count(wave.length, "leaving reflector")} a cluster ID of its own before it goes: ${listNames(wave.map((name) => `${name} (${idOf.get(name) ?? ""})`))}`,
      );
      if (draft !== undefined && run.attempt(draft).taken) progress = true;
    }
  }
  if (run.state.bgpConfiguration.nodeToNodeMeshEnabled) {
    const builder = createStepBuilder();
    if (!run.hasBootstrap())
      builder.action({
        verb: "create",
        kind: "BGPPeer",
        object: renderBootstrapPeer(run.state.calicoApiVersion),
      });
    let spare = spareReflectorKey(run.state, run.desired);
    const labelled: string[] = [];
    for (const name of stuck) {
      const node = run.nodeNamed(name);
      if (node === undefined || node.labels[REFLECTOR_LABEL] !== undefined) continue;
      builder.label(name, REFLECTOR_LABEL, String(spare++));
      labelled.push(name);
    }
    const draft = builder.build(
      "PrepareReflectors",
      `peer ${count(stuck.length, "leaving reflector")} with every node so they can go one by one: ${listNames(stuck)}${labelled.length > 0 ? ` (label ${listNames(labelled)})` : ""}`,
    );
    if (draft !== undefined && run.attempt(draft).taken) progress = true;
  }
  return progress;
}

/**
 * `count` cluster IDs no node carries and the design does not use: the addresses right above the
 * highest one in use (deterministic, and never one a designed reflector could get later, since new
 * IDs avoid what nodes carry).
 */
function freshClusterIds(state: ClusterSnapshot, desired: DesiredState, count: number): string[] {
  const used = new Set<number>();
  for (const node of state.nodes) {
    const id = node.routeReflectorClusterId;
    if (isValidClusterId(id)) used.add(parseIpv4(id) ?? 0);
  }
  for (const id of desired.clusterIds.values()) used.add(parseIpv4(id) ?? 0);
  const fresh: string[] = [];
  let next = Math.max(0, ...used) + 1;
  while (fresh.length < count) {
    if (next > 0xfffffffe) next = 1; // wrapped: look from the bottom
    if (!used.has(next)) {
      used.add(next);
      fresh.push(formatIpv4(next));
    }
    next++;
  }
  return fresh;
}

/** The smallest reflector key above every key a node label or the design mentions. */
function spareReflectorKey(state: ClusterSnapshot, desired: DesiredState): number {
  let highest = 0;
  const see = (key: string | undefined) => {
    const value = Number(key);
    if (key !== undefined && Number.isSafeInteger(value) && value > highest) highest = value;
  };
  for (const node of state.nodes) {
    see(node.labels[REFLECTOR_LABEL]);
    for (const key of readPeerKeys(node.labels)) see(key);
  }
  for (const key of desired.reflectorKeys.values()) see(key);
  return highest + 1;
}
