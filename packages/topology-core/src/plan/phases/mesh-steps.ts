import type { Action, BgpConfigurationPatch, StepReason } from "../../model/actions.js";
import type { ClusterSnapshot } from "../../model/cluster.js";
import { BOOTSTRAP_PEER_NAME } from "../../model/names.js";
import type { StepDraft } from "../order-step.js";
import type { PlanningRun } from "../planning-run.js";

/** Calico rejects these BGPConfiguration fields while the mesh is off (3.32). */
const MESH_ONLY_FIELDS = ["nodeMeshMaxRestartTime", "nodeMeshPassword"] as const;

/**
 * Phase 0, the fail-safe: the mesh comes back before anything else changes — for good (no
 * designed reflector is Ready), or until new reflectors carry every route (none serves now).
 */
export function planFailsafeMesh(run: PlanningRun): void {
  const { desired } = run;
  if (
    (desired.meshEnabled || desired.meshFailsafe === true) &&
    !run.state.bgpConfiguration.nodeToNodeMeshEnabled
  ) {
    run.accept(meshStep(run.state, true));
  }
}

/**
 * Phase 4: mesh off, once reflectors carry every route (the interlock checks exactly that); the
 * bootstrap BGPPeer goes right after the mesh write, unless clients still need it.
 */
export function planMeshOff(run: PlanningRun): void {
  if (run.desired.meshEnabled || !run.state.bgpConfiguration.nodeToNodeMeshEnabled) return;
  if (!run.hasBootstrap() || !run.attempt(meshStep(run.state, false, true)).taken)
    run.accept(meshStep(run.state, false));
}

/** The write turning the mesh on or off (creating `BGPConfiguration default` when missing). */
function meshStep(state: ClusterSnapshot, enabled: boolean, deleteBootstrap = false): StepDraft {
  const config = state.bgpConfiguration;
  let action: Action;
  if (!config.exists) {
    action = {
      verb: "create",
      kind: "BGPConfiguration",
      object: {
        apiVersion: state.calicoApiVersion,
        kind: "BGPConfiguration",
        metadata: { name: "default" },
        spec: { nodeToNodeMeshEnabled: enabled },
      },
    };
  } else {
    const spec: Record<string, boolean | null> = { nodeToNodeMeshEnabled: enabled };
    if (!enabled)
      for (const field of MESH_ONLY_FIELDS)
        if (config.specFields.includes(field)) spec[field] = null;
    const patch: BgpConfigurationPatch = { spec };
    action = { verb: "patch", kind: "BGPConfiguration", name: "default", patch };
  }
  const reason: StepReason = enabled ? "EnableNodeMesh" : "DisableNodeMesh";
  return {
    description: enabled
      ? "turn the node-to-node mesh back on: no reflector can serve"
      : `turn the node-to-node mesh off: reflectors now carry every route${deleteBootstrap ? "; delete the bootstrap BGPPeer" : ""}`,
    reason,
    actions: deleteBootstrap
      ? [action, { verb: "delete", kind: "BGPPeer", name: BOOTSTRAP_PEER_NAME }]
      : [action],
  };
}
