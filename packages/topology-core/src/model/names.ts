/**
 * Every label, annotation and object name rrfleet writes. Keeping them in one file makes
 * "is this rrfleet's?" a question with one answer.
 */

/** Prefix of every node label rrfleet owns. */
export const LABEL_PREFIX = "rrfleet.io/";

/** On a route reflector node: its reflector key (a small decimal integer, stable while it serves). */
export const REFLECTOR_LABEL = "rrfleet.io/reflector";

/** Prefix of client labels: `rrfleet.io/peer-<key>` marks a client of the reflector with that key. */
export const PEER_LABEL_PREFIX = "rrfleet.io/peer-";

/** Calico's route-reflector annotation; a valid IPv4 value makes the node a reflector. */
export const CLUSTER_ID_ANNOTATION = "projectcalico.org/RouteReflectorClusterID";

/**
 * On every object the fleet applier writes: the lease epoch of the leader that wrote it (a
 * decimal integer). A writer refuses an object carrying a higher epoch than its own, so a deposed
 * leader cannot overwrite its successor's writes; a new leader starts above the highest it reads.
 */
export const FENCING_EPOCH_ANNOTATION = "rrfleet.io/fencing-epoch";

/** Label on every object rrfleet owns. */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
/** Value of {@link MANAGED_BY_LABEL} on rrfleet's objects. */
export const MANAGED_BY_VALUE = "rrfleet";

/** Label on rrfleet BGPPeers telling what the peer is for. */
export const PEER_ROLE_LABEL = "rrfleet.io/role";
/** Role of the BGPPeer that meshes the reflectors with each other. */
export const ROLE_REFLECTOR_MESH = "reflector-mesh";
/** Role of the per-reflector BGPPeer that peers one reflector with its clients. */
export const ROLE_REFLECTOR_CLIENTS = "reflector-clients";
/** Role of the temporary BGPPeer that peers every node with every reflector during adoption. */
export const ROLE_REFLECTOR_BOOTSTRAP = "reflector-bootstrap";
/** On a per-reflector BGPPeer: the reflector key it serves. */
export const PEER_KEY_LABEL = "rrfleet.io/reflector-key";

/** Name of the BGPPeer meshing all reflectors. */
export const REFLECTOR_MESH_PEER_NAME = "rrfleet-reflector-mesh";

/**
 * Name of the temporary BGPPeer peering every node with every reflector while reflectors are
 * promoted with the node-to-node mesh on (see planSteps); it never exists in a converged cluster.
 */
export const BOOTSTRAP_PEER_NAME = "rrfleet-reflector-bootstrap";

/** Name of the BGPPeer that peers reflector `key` with its clients. */
export function reflectorPeerName(key: string): string {
  return `rrfleet-reflector-${key}`;
}

/** The client label for reflector `key`. */
export function peerLabel(key: string): string {
  return `${PEER_LABEL_PREFIX}${key}`;
}

/** The reflector key a client label refers to, or undefined if `label` is not a client label. */
export function keyOfPeerLabel(label: string): string | undefined {
  return label.startsWith(PEER_LABEL_PREFIX) ? label.slice(PEER_LABEL_PREFIX.length) : undefined;
}

/**
 * The reflector keys a node's client labels name, sorted numerically (keys are decimal integers
 * without leading zeros, so shorter is smaller).
 */
export function readPeerKeys(labels: Readonly<Record<string, string>>): readonly string[] {
  let keys: string[] | undefined;
  for (const label in labels) {
    if (label.length > PEER_LABEL_PREFIX.length && label.startsWith(PEER_LABEL_PREFIX)) {
      (keys ??= []).push(label.slice(PEER_LABEL_PREFIX.length));
    }
  }
  if (keys === undefined) return NO_PEER_KEYS; // most nodes, read on every plan: no allocation
  return keys.length < 2
    ? keys
    : keys.sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
}

const NO_PEER_KEYS: readonly string[] = Object.freeze([]);

/** Whether `key` is a well-formed reflector key: a positive decimal integer without leading zeros. */
export function isReflectorKey(key: string): boolean {
  return /^[1-9][0-9]{0,5}$/.test(key);
}

/** Whether a BGPPeer's labels mark it as rrfleet's. */
export function isOwnedByRrfleet(labels: Readonly<Record<string, string>>): boolean {
  return labels[MANAGED_BY_LABEL] === MANAGED_BY_VALUE;
}
