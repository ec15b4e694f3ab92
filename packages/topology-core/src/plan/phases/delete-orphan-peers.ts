import { BOOTSTRAP_PEER_NAME, isOwnedByRrfleet } from "../../model/names.js";
import { compareStrings } from "../../model/order.js";
import { listNames } from "../describe-steps.js";
import type { PlanningRun } from "../planning-run.js";
import { createStepBuilder } from "../step-builder.js";

/** Phase 7: delete rrfleet BGPPeers nobody needs (never anyone else's). */
export function planOrphanDeletion(run: PlanningRun): void {
  const wanted = new Set(run.desired.bgpPeers.map((p) => p.metadata.name));
  if (run.needsBootstrap()) wanted.add(BOOTSTRAP_PEER_NAME);
  const builder = createStepBuilder();
  const orphans = run.state.bgpPeers
    .filter((p) => isOwnedByRrfleet(p.labels) && !wanted.has(p.name))
    .map((p) => p.name)
    .sort(compareStrings);
  for (const name of orphans) builder.action({ verb: "delete", kind: "BGPPeer", name });
  run.accept(builder.build("DeleteOrphanPeers", `delete unused BGPPeers: ${listNames(orphans)}`));
}
