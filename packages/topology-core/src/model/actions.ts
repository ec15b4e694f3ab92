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

/** One step of a plan: its actions may run in any order (or together); steps run in order. */
export interface Step {
  readonly description: string;
  readonly reason: StepReason;
  /**
   * The step opens or restarts BGP sessions: the executor waits until they are Established (or a
   * switchover delay passes) before the next step, which may remove the sessions they replace.
   */
  readonly waitForSessions: boolean;
  readonly actions: readonly Action[];
}
