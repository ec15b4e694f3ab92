import type { BgpPeerObject } from "../model/actions.js";
import type { CalicoApiVersion } from "../model/cluster.js";
import {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  PEER_KEY_LABEL,
  PEER_ROLE_LABEL,
  peerLabel,
  REFLECTOR_LABEL,
  REFLECTOR_MESH_PEER_NAME,
  reflectorPeerName,
  ROLE_REFLECTOR_CLIENTS,
  ROLE_REFLECTOR_MESH,
} from "../model/names.js";
import { compareStrings } from "../model/order.js";
import { quoteCalicoValue } from "../selectors/calico-selector.js";
import type { ReflectorIdentity } from "../topology/allocate-identities.js";

/** The state rrfleet wants the cluster to reach, in Calico's terms. */
export interface DesiredState {
  /** Reflectors sorted by key. */
  readonly reflectors: readonly ReflectorIdentity[];
  /** Reflector node → its key: the value of its `rrfleet.io/reflector` label. */
  readonly reflectorKeys: ReadonlyMap<string, string>;
  /** Client → keys of its reflectors, sorted: it carries `rrfleet.io/peer-<key>` for each. */
  readonly peerKeys: ReadonlyMap<string, readonly string[]>;
  /** Node → cluster ID, for reflectors only. */
  readonly clusterIds: ReadonlyMap<string, string>;
  /** rrfleet's BGPPeers, sorted by name. */
  readonly bgpPeers: readonly BgpPeerObject[];
  readonly meshEnabled: boolean;
}

/**
 * Renders a designed topology to Calico objects. The BGPPeer count does not grow with the node
 * count: one per reflector (`has(rrfleet.io/peer-<key>)` × `rrfleet.io/reflector == '<key>'`) and
 * one meshing the reflectors, R + 1 in all. Clients carry one label per reflector they peer with;
 * nodes in neither map carry no rrfleet label.
 */
export function renderDesired(
  reflectors: readonly ReflectorIdentity[],
  keysByClient: ReadonlyMap<string, readonly string[]>,
  meshEnabled: boolean,
  apiVersion: CalicoApiVersion,
): DesiredState {
  const reflectorKeys = new Map(reflectors.map((r) => [r.node, r.key]));
  const clusterIds = new Map(reflectors.map((r) => [r.node, r.clusterId]));
  const bgpPeers = reflectors.map((r) => renderReflectorPeer(r.key, apiVersion));
  if (reflectors.length > 0) bgpPeers.push(renderMeshPeer(apiVersion));
  bgpPeers.sort((a, b) => compareStrings(a.metadata.name, b.metadata.name));
  return { reflectors, reflectorKeys, peerKeys: keysByClient, clusterIds, bgpPeers, meshEnabled };
}

/** The BGPPeer peering reflector `key` with every node labelled as its client. */
export function renderReflectorPeer(key: string, apiVersion: CalicoApiVersion): BgpPeerObject {
  return {
    apiVersion,
    kind: "BGPPeer",
    metadata: {
      name: reflectorPeerName(key),
      labels: {
        [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
        [PEER_KEY_LABEL]: key,
        [PEER_ROLE_LABEL]: ROLE_REFLECTOR_CLIENTS,
      },
    },
    spec: {
      nodeSelector: `has(${peerLabel(key)})`,
      peerSelector: `${REFLECTOR_LABEL} == ${quoteCalicoValue(key)}`,
    },
  };
}

/** The BGPPeer meshing all reflectors with each other. */
export function renderMeshPeer(apiVersion: CalicoApiVersion): BgpPeerObject {
  return {
    apiVersion,
    kind: "BGPPeer",
    metadata: {
      name: REFLECTOR_MESH_PEER_NAME,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [PEER_ROLE_LABEL]: ROLE_REFLECTOR_MESH },
    },
    spec: { nodeSelector: `has(${REFLECTOR_LABEL})`, peerSelector: `has(${REFLECTOR_LABEL})` },
  };
}
