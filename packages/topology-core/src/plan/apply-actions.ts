import type { Action } from "../model/actions.js";
import type { BgpPeerInfo, ClusterSnapshot, NodeInfo } from "../model/cluster.js";
import { CLUSTER_ID_ANNOTATION } from "../model/names.js";

/**
 * The cluster state after `actions`, as the API server would store it. Used to simulate a plan
 * step by step (analysis, tests) and never touches the input. Throws on an action that cannot
 * apply (patching a missing node, creating an existing BGPPeer): that is a planner bug.
 * `indexOfNode` (name → index in `state.nodes`) saves building one when simulating many steps
 * of one cluster: actions never add, remove or reorder nodes.
 */
export function applyActions(
  state: ClusterSnapshot,
  actions: readonly Action[],
  indexOfNode?: ReadonlyMap<string, number>,
): ClusterSnapshot {
  if (actions.length === 0) return state;
  let nodes: NodeInfo[] | undefined;
  let peers: BgpPeerInfo[] | undefined;
  let index: ReadonlyMap<string, number> | undefined = indexOfNode;
  let bgpConfiguration = state.bgpConfiguration;

  for (const action of actions) {
    switch (action.kind) {
      case "Node": {
        nodes ??= [...state.nodes];
        index ??= new Map(nodes.map((node, i) => [node.name, i]));
        const i = index.get(action.name);
        const node = i === undefined ? undefined : nodes[i];
        if (i === undefined || node === undefined)
          throw new Error(`applyActions: no node ${action.name}`);
        nodes[i] = patchNode(node, action.patch.metadata);
        break;
      }
      case "BGPPeer": {
        peers ??= [...state.bgpPeers];
        const name = action.verb === "delete" ? action.name : action.object.metadata.name;
        const at = peers.findIndex((p) => p.name === name);
        if (action.verb === "create" && at !== -1)
          throw new Error(`applyActions: BGPPeer ${name} exists`);
        if (action.verb !== "create" && at === -1)
          throw new Error(`applyActions: no BGPPeer ${name}`);
        if (action.verb === "delete") {
          peers.splice(at, 1);
          break;
        }
        const info: BgpPeerInfo = {
          name,
          labels: action.object.metadata.labels,
          nodeSelector: action.object.spec.nodeSelector,
          peerSelector: action.object.spec.peerSelector,
        };
        if (at === -1) peers.push(info);
        else peers[at] = info;
        break;
      }
      case "BGPConfiguration": {
        if (action.verb === "create") {
          bgpConfiguration = {
            exists: true,
            nodeToNodeMeshEnabled: action.object.spec.nodeToNodeMeshEnabled,
            specFields: ["nodeToNodeMeshEnabled"],
          };
          break;
        }
        const spec = action.patch.spec;
        const fields = new Set(bgpConfiguration.specFields);
        for (const [field, value] of Object.entries(spec)) {
          if (value === null) fields.delete(field);
          else fields.add(field);
        }
        const mesh = spec.nodeToNodeMeshEnabled;
        bgpConfiguration = {
          exists: true,
          nodeToNodeMeshEnabled:
            typeof mesh === "boolean" ? mesh : bgpConfiguration.nodeToNodeMeshEnabled,
          specFields: [...fields].sort(),
        };
        break;
      }
    }
  }
  return {
    ...state,
    nodes: nodes ?? state.nodes,
    bgpPeers: peers ?? state.bgpPeers,
    bgpConfiguration,
  };
}

function patchNode(
  node: NodeInfo,
  metadata: {
    labels?: Readonly<Record<string, string | null>>;
    annotations?: Readonly<Record<string, string | null>>;
  },
): NodeInfo {
  let labels = node.labels;
  if (metadata.labels !== undefined) {
    const patch = metadata.labels;
    let removes = false;
    for (const key in patch) if (patch[key] === null) removes = true;
    if (!removes) {
      // Only additions and changes (every pre-peering): spreading small records is much cheaper
      // than rebuilding them key by key, and a node's label order carries no meaning.
      labels = { ...node.labels, ...(patch as Readonly<Record<string, string>>) };
    } else {
      const next: Record<string, string> = {};
      const current = node.labels;
      for (const key in current) if (!(key in patch)) next[key] = current[key] ?? "";
      for (const key in patch) {
        const value = patch[key];
        if (value !== null && value !== undefined) next[key] = value;
      }
      labels = next;
    }
  }
  const annotation = metadata.annotations?.[CLUSTER_ID_ANNOTATION];
  if (annotation === undefined) return { ...node, labels };
  const { routeReflectorClusterId: _dropped, ...rest } = node;
  return annotation === null
    ? { ...rest, labels }
    : { ...rest, labels, routeReflectorClusterId: annotation };
}
