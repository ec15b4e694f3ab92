/**
 * Every decision the core makes carries a stable PascalCase reason (for logs, events and metric
 * labels) and a human message. Consumers switch on `kind` exhaustively.
 */

/** Why a reflector stays, is chosen, or goes. */
export type ReflectorReason =
  | "ReflectorHealthy"
  | "WithinNotReadyGrace"
  | "ZoneBelowTarget"
  | "NotReadyPastGrace"
  | "Cordoned"
  | "LifecycleTaint"
  | "Excluded"
  | "ScaleDown"
  | "ZoneRebalance"
  | "NoReflectorCanServe";

/** Why the node-to-node mesh is (or stays) on or off. */
export type MeshReason =
  "ReflectorsServeAllNodes" | "NoReflectorCanServe" | "FailsafeSizeLimitExceeded";

/** One decision of the topology design. */
export type Decision =
  | {
      readonly kind: "keep";
      readonly node: string;
      readonly reason: "ReflectorHealthy" | "WithinNotReadyGrace";
      readonly message: string;
    }
  | {
      readonly kind: "promote";
      readonly node: string;
      readonly reason: "ZoneBelowTarget";
      readonly message: string;
    }
  | {
      readonly kind: "demote";
      readonly node: string;
      readonly reason:
        | "NotReadyPastGrace"
        | "Cordoned"
        | "LifecycleTaint"
        | "Excluded"
        | "ScaleDown"
        | "ZoneRebalance"
        | "NoReflectorCanServe";
      readonly message: string;
    }
  | {
      readonly kind: "mesh";
      readonly enabled: boolean;
      readonly reason: MeshReason;
      readonly message: string;
    };
