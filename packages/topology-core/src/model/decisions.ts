/**
 * Every decision the core makes carries a stable PascalCase reason (for logs, events and metric
 * labels) and a human message. Consumers switch on `kind` exhaustively.
 */

/** Why a reflector stays. */
export type KeepReason = "ReflectorHealthy" | "WithinNotReadyGrace";

/** Why a node becomes a reflector. */
export type PromoteReason = "ZoneBelowTarget";

/** Why a reflector goes. */
export type DemoteReason =
  "NotReadyPastGrace" | "Cordoned" | "LifecycleTaint" | "Excluded" | "ScaleDown" | "ZoneRebalance";

/** Why a reflector stays, is chosen, or goes. */
export type ReflectorReason = KeepReason | PromoteReason | DemoteReason;

/** Why the node-to-node mesh is (or stays) on or off. */
export type MeshReason =
  | "ReflectorsServeAllNodes"
  | "NoReflectorCanServe"
  /** The target has the mesh off, but no reflector serves now: the mesh comes back until new ones do. */
  | "NoReflectorServesYet"
  | "FailsafeSizeLimitExceeded";

/** Why the design has fewer reflectors than the policy's sizing asks for. */
export type SizeReason = "PathBudget";

/** One decision of the topology design. */
export type Decision =
  | {
      readonly kind: "keep";
      readonly node: string;
      readonly reason: KeepReason;
      readonly message: string;
    }
  | {
      readonly kind: "promote";
      readonly node: string;
      readonly reason: PromoteReason;
      readonly message: string;
    }
  | {
      readonly kind: "demote";
      readonly node: string;
      readonly reason: DemoteReason;
      readonly message: string;
    }
  | {
      readonly kind: "mesh";
      readonly enabled: boolean;
      readonly reason: MeshReason;
      readonly message: string;
    }
  | {
      readonly kind: "size";
      /** The reflector count the design keeps to. */
      readonly reflectors: number;
      readonly reason: SizeReason;
      readonly message: string;
    };
