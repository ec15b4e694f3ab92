/**
 * The core's view of a cluster: the projected fields of Kubernetes Nodes, Calico BGPPeers and the
 * `default` BGPConfiguration that route-reflector decisions depend on, and nothing else.
 * Adapters (kube, rrctl's file reader) project raw API objects into these shapes.
 */

/** A taint as the planner sees it. */
export interface Taint {
  readonly key: string;
  readonly effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/** A Kubernetes Node reduced to what route-reflector decisions read. */
export interface NodeInfo {
  readonly name: string;
  /** All Kubernetes labels (Calico node labels are the Kubernetes Node labels in KDD mode). */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * Raw value of `projectcalico.org/RouteReflectorClusterID`, if present. Calico silently ignores
   * an invalid value, so the core validates it before treating the node as a reflector.
   */
  readonly routeReflectorClusterId?: string;
  /** Ready condition is `True`. */
  readonly ready: boolean;
  /** lastTransitionTime of the Ready condition (ISO 8601), used for the NotReady grace period. */
  readonly readyTransitionTime?: string;
  /** `spec.unschedulable` (cordoned). */
  readonly unschedulable: boolean;
  readonly taints: readonly Taint[];
  /** metadata.creationTimestamp (ISO 8601); the youngest reflector is demoted first. */
  readonly creationTimestamp?: string;
  /** metadata.resourceVersion, carried for adapters' preconditions; the core never reads it. */
  readonly resourceVersion?: string;
  /**
   * `rrfleet.io/fencing-epoch` when it holds a canonical non-negative integer (the epoch of the
   * fleet leader that last wrote the object); absent or malformed reads as undefined. Adapters
   * fence writes with it; the core never reads it.
   */
  readonly fencingEpoch?: number;
}

/** A Calico BGPPeer reduced to what session modelling and ownership read. */
export interface BgpPeerInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `spec.node`: the peering applies to this one node. */
  readonly node?: string;
  /** `spec.nodeSelector` (Calico selector syntax). */
  readonly nodeSelector?: string;
  /** `spec.peerSelector` (Calico selector syntax). */
  readonly peerSelector?: string;
  /** `spec.peerIP`: an explicit (usually external) peer; not a node-to-node session. */
  readonly peerIP?: string;
  /** `spec.asNumber`, for explicit peers. */
  readonly asNumber?: number;
  readonly resourceVersion?: string;
  /**
   * `rrfleet.io/fencing-epoch` when it holds a canonical non-negative integer (the epoch of the
   * fleet leader that last wrote the object); absent or malformed reads as undefined. Adapters
   * fence writes with it; the core never reads it.
   */
  readonly fencingEpoch?: number;
}

/** What the planner reads of `BGPConfiguration default`. */
export interface BgpConfigurationInfo {
  /** Whether the object exists at all; absent means Calico's defaults (mesh on). */
  readonly exists: boolean;
  /** `spec.nodeToNodeMeshEnabled`; Calico's default is true. */
  readonly nodeToNodeMeshEnabled: boolean;
  /** Names of other spec fields present, so the mesh switch can drop the ones Calico rejects. */
  readonly specFields: readonly string[];
  readonly resourceVersion?: string;
  /**
   * `rrfleet.io/fencing-epoch` when it holds a canonical non-negative integer (the epoch of the
   * fleet leader that last wrote the object); absent or malformed reads as undefined. Adapters
   * fence writes with it; the core never reads it.
   */
  readonly fencingEpoch?: number;
}

/** Everything the planner reads about one cluster. */
export interface ClusterSnapshot {
  readonly nodes: readonly NodeInfo[];
  readonly bgpPeers: readonly BgpPeerInfo[];
  readonly bgpConfiguration: BgpConfigurationInfo;
  /** apiVersion to write Calico objects with: `crd.projectcalico.org/v1` or `projectcalico.org/v3`. */
  readonly calicoApiVersion: CalicoApiVersion;
}

/** The two ways Calico 3.32 serves its resources (see DESIGN.md). */
export type CalicoApiVersion = "crd.projectcalico.org/v1" | "projectcalico.org/v3";
