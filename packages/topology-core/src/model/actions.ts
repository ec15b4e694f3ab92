import type { CalicoApiVersion } from "./cluster.js";

/** An RFC 7386 merge patch of a Node's rrfleet-owned labels and the reflector annotation. */
export interface NodePatch {
  readonly metadata: {
    readonly labels?: Readonly<Record<string, string | null>>;
    readonly annotations?: Readonly<Record<string, string | null>>;
  };
}

/** An RFC 7386 merge patch of `BGPConfiguration default`. */
export interface BgpConfigurationPatch {
  readonly spec: Readonly<Record<string, boolean | null>>;
}

/** A BGPPeer as rrfleet writes it. */
export interface BgpPeerObject {
  readonly apiVersion: CalicoApiVersion;
  readonly kind: "BGPPeer";
  readonly metadata: {
    readonly name: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly resourceVersion?: string;
  };
  readonly spec: { readonly nodeSelector: string; readonly peerSelector: string };
}

/** `BGPConfiguration default` as rrfleet creates it when the cluster has none. */
export interface BgpConfigurationObject {
  readonly apiVersion: CalicoApiVersion;
  readonly kind: "BGPConfiguration";
  readonly metadata: { readonly name: "default" };
  readonly spec: { readonly nodeToNodeMeshEnabled: boolean };
}

/** One write to a cluster: the `rrctl plan` JSON contract (DESIGN.md "Contracts"). */
export type Action =
  | {
      readonly verb: "patch";
      readonly kind: "Node";
      readonly name: string;
      readonly patch: NodePatch;
    }
  | {
      readonly verb: "patch";
      readonly kind: "BGPConfiguration";
      readonly name: "default";
      readonly patch: BgpConfigurationPatch;
    }
  | { readonly verb: "create" | "update"; readonly kind: "BGPPeer"; readonly object: BgpPeerObject }
  | {
      readonly verb: "create";
      readonly kind: "BGPConfiguration";
      readonly object: BgpConfigurationObject;
    }
  | { readonly verb: "delete"; readonly kind: "BGPPeer"; readonly name: string };

/** Why a step exists; stable strings for logs, events and metrics. */
export type StepReason =
  | "EnableNodeMesh"
  | "PrepareReflectors"
  | "AddClientPeerings"
  | "PromoteReflectors"
  | "DisableNodeMesh"
  | "RemoveClientPeerings"
  | "DemoteReflectors"
  | "DeleteOrphanPeers";

/**
 * One step of a plan; steps run in order. Applied one write at a time in the listed order, every
 * prefix of a step's actions keeps every route Ready nodes had before the step (planSteps
 * documents the one last resort checked only as a whole; such a step is never `inAnyOrder`).
 */
export interface Step {
  readonly description: string;
  readonly reason: StepReason;
  /**
   * The step removes or restarts BGP sessions: before applying it, an executor must see every
   * session the step keeps Established (`findSessionsToConfirm`), since the planner proved it
   * safe assuming they carry routes. Steps that only add sessions need nothing confirmed.
   */
  readonly requiresEstablishedSessions: boolean;
  /**
   * Any subset of the actions keeps those routes too, so an executor may run them concurrently
   * and in any order. When false, only the listed order was verified: apply them one by one.
   */
  readonly inAnyOrder: boolean;
  readonly actions: readonly Action[];
}
