import { isValidClusterId } from "../../model/ipv4.js";
import { REFLECTOR_LABEL } from "../../model/names.js";
import { isObservedReflector } from "../../topology/select-reflectors.js";
import { count, joinClauses, listNames } from "../describe-steps.js";
import type { PlanningRun } from "../planning-run.js";
import { createStepBuilder } from "../step-builder.js";

/**
 * Phase 1, one step: create or repair rrfleet's BGPPeers (and the bootstrap BGPPeer while
 * reflectors are promoted with the mesh on), label new reflectors (moving a leaving node off a
 * designed key), and pre-peer clients with reflectors not promoted yet: sessions to a plain node
 * change none of a client's reflectors.
 */
export function planPrepareReflectors(run: PlanningRun): void {
  const { desired, state } = run;
  const builder = createStepBuilder();
  const peersByName = new Map(state.bgpPeers.map((p) => [p.name, p]));
  let peerWrites = 0;
  const wanted =
    desired.bootstrapPeer !== undefined && run.needsBootstrap()
      ? [...desired.bgpPeers, desired.bootstrapPeer]
      : desired.bgpPeers;
  for (const object of wanted) {
    const current = peersByName.get(object.metadata.name);
    if (current === undefined) {
      builder.action({ verb: "create", kind: "BGPPeer", object });
      peerWrites++;
    } else if (
      current.nodeSelector !== object.spec.nodeSelector ||
      current.peerSelector !== object.spec.peerSelector ||
      current.node !== undefined ||
      current.peerIP !== undefined ||
      !sameLabels(current.labels, object.metadata.labels)
    ) {
      const withVersion =
        current.resourceVersion === undefined
          ? object
          : {
              ...object,
              metadata: { ...object.metadata, resourceVersion: current.resourceVersion },
            };
      builder.action({ verb: "update", kind: "BGPPeer", object: withVersion });
      peerWrites++;
    }
  }
  const labelled: string[] = [];
  for (const reflector of desired.reflectors) {
    const node = run.nodeNamed(reflector.node);
    if (node?.labels[REFLECTOR_LABEL] !== reflector.key) {
      builder.label(reflector.node, REFLECTOR_LABEL, reflector.key);
      labelled.push(reflector.node);
    }
  }
  // A node on its way out that carries a designed reflector's key (two nodes labelled with one
  // key) would catch that reflector's clients too: move it to a key nobody uses.
  const designedKeys = new Set(desired.reflectorKeys.values());
  let spareKey = 0; // found on first use
  for (const node of run.reflectorishNow()) {
    const key = node.labels[REFLECTOR_LABEL];
    if (key === undefined || !designedKeys.has(key) || desired.reflectorKeys.has(node.name))
      continue;
    if (spareKey === 0) {
      spareKey = 1;
      for (const other of state.nodes) {
        const value = Number(other.labels[REFLECTOR_LABEL] ?? 0);
        if (Number.isFinite(value) && value >= spareKey) spareKey = value + 1;
      }
    }
    builder.label(node.name, REFLECTOR_LABEL, String(spareKey++));
    labelled.push(node.name);
  }
  let prePeered = 0;
  // Free now: the client is itself a reflector on its way out, or the target is not one yet.
  const freeKeys = new Map<string, boolean>();
  const isFree = (key: string): boolean => {
    let free = freeKeys.get(key);
    if (free === undefined) {
      const target = run.nodeNamed(run.nodeOfKey(key) ?? "");
      free = target === undefined || !isValidClusterId(target.routeReflectorClusterId);
      freeKeys.set(key, free);
    }
    return free;
  };
  for (const [i, missing] of run.missingAtStart) {
    const node = state.nodes[i];
    if (node === undefined) continue;
    if (isObservedReflector(node) || missing.every(isFree)) {
      builder.labelAll(node.name, run.peerPatchOf(missing));
      prePeered++;
      continue;
    }
    let added = false;
    for (const key of missing) {
      if (!isFree(key)) continue;
      builder.label(node.name, run.peerLabelOf(key), "true");
      added = true;
    }
    if (added) prePeered++;
  }
  run.accept(
    builder.build(
      "PrepareReflectors",
      joinClauses([
        labelled.length > 0
          ? `label ${count(labelled.length, "reflector")} (${listNames(labelled)})`
          : "",
        peerWrites > 0 ? `write ${count(peerWrites, "BGPPeer")}` : "",
        prePeered > 0
          ? `pre-peer ${count(prePeered, "node")} with reflectors not yet promoted`
          : "",
      ]),
    ),
  );
}

function sameLabels(
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>>,
): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
