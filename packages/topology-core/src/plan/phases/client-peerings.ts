import type { NodeInfo } from "../../model/cluster.js";
import { isValidClusterId } from "../../model/ipv4.js";
import { peerLabel, readPeerKeys, REFLECTOR_LABEL } from "../../model/names.js";
import { isObservedReflector } from "../../topology/select-reflectors.js";
import { count } from "../describe-steps.js";
import { isClientNow, type PlanningRun } from "../planning-run.js";
import { createStepBuilder } from "../step-builder.js";

/** Phase 2: add the remaining client peerings, one new reflector per client per step (round). */
export function planAddClientPeerings(run: PlanningRun): void {
  const pending = new Map<string, string[]>();
  for (const i of run.missingAtStart.keys()) {
    const node = run.state.nodes[i];
    if (node === undefined || isObservedReflector(node)) continue;
    const labels = node.labels;
    const missing = run
      .desiredKeysOf(i, node.name)
      .filter((key) => labels[run.peerLabelOf(key)] === undefined);
    if (missing.length > 0) pending.set(node.name, missing);
  }
  const rounds = Math.max(0, ...[...pending.values()].map((keys) => keys.length));
  for (let round = 0; round < rounds; round++) {
    const builder = createStepBuilder();
    let clients = 0;
    for (const [name, keys] of pending) {
      const key = keys[round];
      if (key === undefined) continue;
      builder.label(name, peerLabel(key), "true");
      clients++;
    }
    const step = builder.build(
      "AddClientPeerings",
      `add client peerings (round ${round + 1} of ${rounds}): ${count(clients, "client")} get one more reflector`,
    );
    if (!run.accept(step)) break;
  }
}

/**
 * Phase 5: remove old client peerings. Peerings to nodes that are no reflector (yet, or any more)
 * go at once; a removal that touches a live reflector session goes one per client per round.
 * Without `final`, a removal that would lose routes now (its reflector still has to leave the
 * mesh's way, say after the fail-safe turned the mesh back on) stops this phase — returns false,
 * and the caller retries it with `final` after the demotions, when a refusal stops the plan.
 */
export function planPeeringRemovals(run: PlanningRun, final: boolean): boolean {
  const reflectorByKey = new Map<string, NodeInfo>();
  for (const node of run.state.nodes) {
    const key = node.labels[REFLECTOR_LABEL];
    if (key !== undefined) reflectorByKey.set(key, node);
  }
  const costly = new Map<string, string[]>();
  const free = createStepBuilder();
  let freeClients = 0;
  for (const i of run.surplusAtStart) {
    const node = run.state.nodes[i];
    if (node === undefined) continue;
    const have = readPeerKeys(node.labels);
    const wanted = run.desiredKeysOf(i, node.name);
    const surplus = have.filter((key) => !wanted.includes(key));
    if (surplus.length === 0) continue;
    const live: string[] = [];
    for (const key of surplus) {
      const target = reflectorByKey.get(key);
      if (
        isClientNow(node) &&
        target !== undefined &&
        isValidClusterId(target.routeReflectorClusterId)
      ) {
        live.push(key);
      } else {
        free.label(node.name, peerLabel(key), null);
      }
    }
    if (live.length < surplus.length) freeClients++;
    if (live.length > 0) costly.set(node.name, live);
  }
  const rounds = Math.max(0, ...[...costly.values()].map((keys) => keys.length));
  for (let round = 0; round < Math.max(rounds, 1); round++) {
    const builder = round === 0 ? free : createStepBuilder();
    let clients = round === 0 ? freeClients : 0;
    for (const [name, keys] of costly) {
      const key = keys[round];
      if (key === undefined) continue;
      builder.label(name, peerLabel(key), null);
      clients++;
    }
    const step = builder.build(
      "RemoveClientPeerings",
      `remove old client peerings${rounds > 1 ? ` (round ${round + 1} of ${rounds})` : ""}: ${count(clients, "node")} drop a reflector`,
    );
    if (step === undefined) continue;
    if (final) {
      if (!run.accept(step)) return false;
    } else if (run.refusal !== undefined || !run.attempt(step).taken) {
      return false;
    }
  }
  return true;
}
