import type { BgpConfigurationInfo, BgpPeerInfo, NodeInfo } from "@rrfleet/topology-core";

/**
 * An object as the plan read it (projected): a write is fenced by its resourceVersion, and after
 * a conflict the fresh object is compared with it to decide between retrying and replanning.
 */
export type ObservedObject =
  | { readonly kind: "Node"; readonly object: NodeInfo }
  | { readonly kind: "BGPPeer"; readonly object: BgpPeerInfo }
  | { readonly kind: "BGPConfiguration"; readonly object: BgpConfigurationInfo };
