import type { ClusterSnapshot } from "../model/cluster.js";
import type { Decision, MeshReason } from "../model/decisions.js";
import { estimatePathsPerPrefix } from "../analysis/count-paths.js";
import { isValidClusterId, parseIpv4 } from "../model/ipv4.js";
import { readPeerKeys, REFLECTOR_LABEL } from "../model/names.js";
import type { Policy } from "../policy/policy.js";
import { parseLabelSelector } from "../selectors/label-selector.js";
import { allocateIdentities, type ReflectorIdentity } from "../topology/allocate-identities.js";
import {
  assignClients,
  type ClientAssignment,
  type ClientInput,
} from "../topology/assign-clients.js";
import {
  selectReflectors,
  zoneOf,
  type ReflectorSelection,
} from "../topology/select-reflectors.js";

/** Options of {@link designTopology}. */
export interface DesignOptions {
  /** Trace the client assignment of this node (`ClientAssignment.trace`); for explanations. */
  readonly traceNode?: string;
}

/** The target topology and every decision on the way to it (planCluster's first half). */
export interface TopologyDesign {
  readonly selection: ReflectorSelection;
  /** Set when the ADD-PATH path budget made the design smaller than the sizing asked for. */
  readonly sizeDecision?: Decision;
  /** Each node's current client keys (`rrfleet.io/peer-<key>` labels), by snapshot index. */
  readonly observedKeys: readonly (readonly string[])[];
  /** The designed reflectors, sorted by key. */
  readonly reflectors: readonly ReflectorIdentity[];
  /** The clients as the assignment saw them (with the current keys it may keep). */
  readonly clients: readonly ClientInput[];
  /** Snapshot index of each client. */
  readonly nodeOfClient: readonly number[];
  readonly assignment: ClientAssignment;
  /** Designed client keys by snapshot index (undefined: none). */
  readonly peerKeysOfNode: readonly (readonly string[] | undefined)[];
  /**
   * The mesh in the target, and `failsafeNow`: back on first because no reflector serves now
   * (see decideMesh).
   */
  readonly mesh: {
    readonly enabled: boolean;
    readonly failsafeNow: boolean;
    readonly decision: Decision;
  };
}

/**
 * Designs the target topology: selects the reflectors (no more than keep every node within the
 * policy's `maxPathsPerPrefix`: see estimatePathsPerPrefix), gives them keys and cluster IDs,
 * assigns the clients and decides the mesh. The planner renders and steps towards this design; `rrctl
 * explain` reads its decisions. Pure.
 */
export function designTopology(
  snapshot: ClusterSnapshot,
  policy: Policy,
  now: Date,
  options: DesignOptions = {},
): TopologyDesign {
  const select = (sizing: Policy) => {
    const selection = selectReflectors(
      snapshot.nodes,
      {
        ...sizing,
        exclude:
          policy.excludeNodeSelector === undefined
            ? undefined
            : parseLabelSelector(policy.excludeNodeSelector),
        prefer:
          policy.preferNodeSelector === undefined
            ? undefined
            : parseLabelSelector(policy.preferNodeSelector),
      },
      now,
    );
    const reflectors = allocateIdentities(
      selection.reflectors,
      snapshot.nodes,
      snapshot.bgpPeers,
      policy.topology,
      policy.clusterIdBase,
      observedKeys,
    );
    const paths = estimatePathsPerPrefix(
      reflectors.map((r) => ({ zone: r.zone, clusterId: parseIpv4(r.clusterId) ?? 0 })),
      policy.topology,
      policy.reflectorsPerNode,
      // Only whether the budget is exceeded matters: stop counting just past it.
      policy.maxPathsPerPrefix + 1,
    );
    return { selection, reflectors, paths };
  };
  // Each node's client labels, read once for every phase below.
  const observedKeys = snapshot.nodes.map((node) => readPeerKeys(node.labels));
  // Within the ADD-PATH path budget: fewer reflectors until the design's paths per prefix fit
  // (judged from the reflector set alone, so not from the state the cluster starts from).
  let chosen = select(policy);
  const wanted = { reflectors: chosen.reflectors.length, paths: chosen.paths };
  while (chosen.paths > policy.maxPathsPerPrefix && chosen.reflectors.length > 1) {
    const fewer = chosen.reflectors.length - 1;
    chosen = select({ ...policy, max: fewer, min: Math.min(policy.min, fewer) });
  }
  const { selection, reflectors } = chosen;
  const sizeDecision: Decision | undefined =
    reflectors.length === wanted.reflectors
      ? undefined
      : {
          kind: "size",
          reflectors: reflectors.length,
          reason: "PathBudget",
          message:
            `${wanted.reflectors} reflectors would give a node more than ${policy.maxPathsPerPrefix} BGP paths to one ` +
            `prefix (calico-node runs ADD-PATH, and ${policy.topology} reflectors pass each other's paths ` +
            `on); maxPathsPerPrefix is ${policy.maxPathsPerPrefix}, so ${reflectors.length} are designed ` +
            `(${chosen.paths} paths)`,
        };
  const reflectorNames = new Set(reflectors.map((r) => r.node));
  const stillDesigned = keptKeys(snapshot, reflectors);
  const clients: ClientInput[] = [];
  const nodeOfClient: number[] = [];
  snapshot.nodes.forEach((node, i) => {
    if (reflectorNames.has(node.name)) return;
    const keys = observedKeys[i] ?? [];
    clients.push({
      name: node.name,
      zone: zoneOf(node, policy.zoneLabel),
      currentKeys: keys.length === 0 ? keys : keys.filter((key) => stillDesigned.has(key)),
    });
    nodeOfClient.push(i);
  });
  const traced =
    options.traceNode === undefined
      ? -1
      : clients.findIndex((client) => client.name === options.traceNode);
  const assignment = assignClients(
    clients,
    reflectors,
    policy,
    traced < 0 ? {} : { traceClient: traced },
  );
  const peerKeysOfNode = new Array<readonly string[] | undefined>(snapshot.nodes.length);
  assignment.keysOfClient.forEach((keys, ci) => {
    peerKeysOfNode[nodeOfClient[ci] ?? -1] = keys;
  });

  const mesh = decideMesh(
    snapshot,
    reflectors.some((r) => r.ready),
    policy.meshFailsafeMaxNodes,
  );
  return {
    selection,
    ...(sizeDecision === undefined ? {} : { sizeDecision }),
    observedKeys,
    reflectors,
    clients,
    nodeOfClient,
    assignment,
    peerKeysOfNode,
    mesh,
  };
}

/**
 * The mesh: off in the target when a designed reflector is Ready; on when none is (the fail-safe,
 * up to `failsafeMaxNodes`). Independently, `failsafeNow`: the mesh is off and no reflector the
 * cluster has now (Ready, with a valid cluster ID) serves — say every reflector node was deleted
 * at once. New reflectors take a whole rollout to carry routes, so the mesh comes back first
 * (same size limit) and goes off again once they do.
 */
function decideMesh(
  snapshot: ClusterSnapshot,
  anyReflectorServes: boolean,
  failsafeMaxNodes: number,
): { enabled: boolean; failsafeNow: boolean; decision: Decision } {
  const withinLimit = snapshot.nodes.length <= failsafeMaxNodes;
  const current = snapshot.bgpConfiguration.nodeToNodeMeshEnabled;
  const servingNow = snapshot.nodes.some(
    (node) => node.ready && isValidClusterId(node.routeReflectorClusterId),
  );
  const failsafeNow = withinLimit && !current && !servingNow;
  const mesh = (enabled: boolean, reason: MeshReason, message: string) => ({
    enabled,
    failsafeNow,
    decision: { kind: "mesh" as const, enabled, reason, message },
  });
  if (anyReflectorServes) {
    return failsafeNow
      ? mesh(
          false,
          "NoReflectorServesYet",
          "no reflector serves now: the node-to-node mesh goes back on until the new reflectors carry every route, then off",
        )
      : mesh(
          false,
          "ReflectorsServeAllNodes",
          "reflectors carry every route; the node-to-node mesh is off",
        );
  }
  if (withinLimit) {
    return mesh(
      true,
      "NoReflectorCanServe",
      "no Ready reflector can serve; the node-to-node mesh stays or goes back on",
    );
  }
  return mesh(
    current,
    "FailsafeSizeLimitExceeded",
    `no Ready reflector can serve, but ${snapshot.nodes.length} nodes exceed meshFailsafeMaxNodes (${failsafeMaxNodes}); the mesh is left ${current ? "on" : "off"}`,
  );
}

/**
 * Keys of designed reflectors that the same node carries now: a client label naming one of them
 * is a current choice worth keeping; a label naming a key that moved or went is stale.
 */
function keptKeys(
  snapshot: ClusterSnapshot,
  reflectors: readonly { node: string; key: string }[],
): Set<string> {
  const designed = new Map(reflectors.map((r) => [r.node, r.key]));
  const kept = new Set<string>();
  for (const node of snapshot.nodes) {
    const key = node.labels[REFLECTOR_LABEL];
    if (key !== undefined && designed.get(node.name) === key) kept.add(key);
  }
  return kept;
}
