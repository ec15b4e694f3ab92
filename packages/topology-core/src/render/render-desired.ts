import type { BgpPeerObject } from "../model/actions.js";
import type { CalicoApiVersion } from "../model/cluster.js";
import {
  BOOTSTRAP_PEER_NAME,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  PEER_KEY_LABEL,
  PEER_ROLE_LABEL,
  peerLabel,
  REFLECTOR_LABEL,
  REFLECTOR_MESH_PEER_NAME,
  reflectorPeerName,
  ROLE_REFLECTOR_BOOTSTRAP,
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
  /**
   * The same keys by node index in the snapshot being planned (undefined: no client labels), when
   * the caller has them that way; the planner then reads these and never `peerKeys`.
   */
  readonly peerKeysOfNode?: readonly (readonly string[] | undefined)[];
  /** Node → cluster ID, for reflectors only. */
  readonly clusterIds: ReadonlyMap<string, string>;
  /** rrfleet's BGPPeers, sorted by name. */
  readonly bgpPeers: readonly BgpPeerObject[];
  readonly meshEnabled: boolean;
  /**
   * The target has the mesh off, but no reflector serves now: the planner turns the mesh on first
   * and off again at the end (see decideMesh in plan-cluster.ts).
   */
  readonly meshFailsafe?: boolean;
  /**
   * The temporary BGPPeer the planner creates while it promotes reflectors with the mesh on
   * (`multi` and `zoned`; see planSteps). Absent for `single`, where every client already peers
   * every reflector. Never part of the converged state.
   */
  readonly bootstrapPeer?: BgpPeerObject;
}

/** Options of {@link renderDesired}. */
export interface RenderOptions {
  /** Offer the bootstrap BGPPeer for promotions with the mesh on; default false. */
  readonly bootstrap?: boolean;
  /** `keysByClient` by node index of the snapshot to plan (see DesiredState.peerKeysOfNode). */
  readonly peerKeysOfNode?: readonly (readonly string[] | undefined)[];
  /** See DesiredState.meshFailsafe; default false. */
  readonly meshFailsafe?: boolean;
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
  options: RenderOptions = {},
): DesiredState {
  const reflectorKeys = new Map(reflectors.map((r) => [r.node, r.key]));
  const clusterIds = new Map(reflectors.map((r) => [r.node, r.clusterId]));
  const bgpPeers = reflectors.map((r) => renderReflectorPeer(r.key, apiVersion));
  if (reflectors.length > 0) bgpPeers.push(renderMeshPeer(apiVersion));
  bgpPeers.sort((a, b) => compareStrings(a.metadata.name, b.metadata.name));
  const desired: DesiredState = {
    reflectors,
    reflectorKeys,
    peerKeys: keysByClient,
    clusterIds,
    bgpPeers,
    meshEnabled,
    ...(options.meshFailsafe === true ? { meshFailsafe: true } : {}),
    ...(options.peerKeysOfNode === undefined ? {} : { peerKeysOfNode: options.peerKeysOfNode }),
  };
  return options.bootstrap === true && reflectors.length > 0
    ? { ...desired, bootstrapPeer: renderBootstrapPeer(apiVersion) }
    : desired;
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

/**
 * The temporary BGPPeer peering every node with every node labelled as a reflector, so that a
 * reflector promoted while the node-to-node mesh is on (it leaves the mesh at once) still has a
 * session with every node.
 */
export function renderBootstrapPeer(apiVersion: CalicoApiVersion): BgpPeerObject {
  return {
    apiVersion,
    kind: "BGPPeer",
    metadata: {
      name: BOOTSTRAP_PEER_NAME,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [PEER_ROLE_LABEL]: ROLE_REFLECTOR_BOOTSTRAP },
    },
    spec: { nodeSelector: "all()", peerSelector: `has(${REFLECTOR_LABEL})` },
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
