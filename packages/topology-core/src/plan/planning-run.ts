import type { AnalysisCache } from "../analysis/peerings.js";
import { viewRoutes, type MissingRoutes, type RouteView } from "../analysis/reachability-report.js";
import type { Step } from "../model/actions.js";
import type { ClusterSnapshot, NodeInfo } from "../model/cluster.js";
import {
  BOOTSTRAP_PEER_NAME,
  isOwnedByRrfleet,
  peerLabel,
  readPeerKeys,
  REFLECTOR_LABEL,
} from "../model/names.js";
import type { DesiredState } from "../render/render-desired.js";
import { isObservedReflector } from "../topology/select-reflectors.js";
import { orderStep, type StepDraft } from "./order-step.js";

/** A step the safety interlock refused because it would lose routes. */
export interface Refusal {
  readonly reason: "WouldLoseRoutes";
  readonly description: string;
  readonly lost: MissingRoutes;
}

/** What {@link PlanningRun.attempt} did with a step. */
export type Attempt =
  | { readonly taken: true }
  | { readonly taken: false; readonly lost: MissingRoutes; readonly unordered: boolean };

/**
 * One planning run's shared state, handed from phase to phase (`phases/`): the steps taken so
 * far, the state after them and its routes, and what the design asks of each node. Phases add
 * steps only through {@link attempt} and {@link accept}, which run the safety interlock.
 */
export interface PlanningRun {
  readonly observed: ClusterSnapshot;
  readonly desired: DesiredState;
  readonly cache: AnalysisCache;
  /** The steps taken so far, in order. */
  readonly steps: readonly Step[];
  /** The state after the last step taken (nodes in the observed order), and its routes. */
  readonly state: ClusterSnapshot;
  readonly view: RouteView;
  /** Set once a step was refused: the plan stops there. */
  readonly refusal: Refusal | undefined;
  /**
   * Simulates and checks a step and orders its writes (orderStep); takes it unless it would lose
   * routes, or unless no order keeps them after every write (with `unordered`, it is then taken
   * as drafted).
   */
  attempt(draft: StepDraft, unordered?: boolean): Attempt;
  /** Like {@link attempt} with `unordered`, but a refusal stops the plan; undefined is no step. */
  accept(draft: StepDraft | undefined): boolean;
  /** A node of the current state by name. */
  nodeNamed(name: string): NodeInfo | undefined;
  /** The client keys the design gives the node at index `i` (named `name`). */
  desiredKeysOf(i: number, name: string): readonly string[];
  /** The node a designed reflector key belongs to. */
  nodeOfKey(key: string): string | undefined;
  /** Whether the bootstrap BGPPeer is needed now: Ready reflectors to promote with the mesh on. */
  needsBootstrap(): boolean;
  hasBootstrap(): boolean;
  /** By observed index: the designed client keys a node lacked at the start. */
  readonly missingAtStart: ReadonlyMap<number, readonly string[]>;
  /** Observed indexes of nodes that had client keys the design drops. */
  readonly surplusAtStart: readonly number[];
  /**
   * Observed indexes of nodes differing from the design that carry a reflector label or a
   * cluster ID: the only ones that can be reflectors on their way out.
   */
  readonly reflectorish: readonly number[];
  /** Those nodes as they are in the current state. */
  reflectorishNow(): NodeInfo[];
  /** `rrfleet.io/peer-<key>`, memoised. */
  peerLabelOf(key: string): string;
  /** `{ rrfleet.io/peer-<key>: "true" }` for each key, one shared object per key list. */
  peerPatchOf(keys: readonly string[]): Readonly<Record<string, string>>;
}

/** Options of {@link createPlanningRun}. */
export interface PlanningRunOptions {
  /** Each observed node's readPeerKeys, by index, when the caller has read them already. */
  readonly observedKeys?: readonly (readonly string[])[];
}

/**
 * Starts a planning run from `observed` toward `desired`. Only nodes whose rrfleet labels or
 * reflector annotation differ from the design take part in the phases; on a converged cluster
 * that is none, and planning is a single scan. Steps only ever add designed client labels and
 * remove ones the cluster had that the design drops, so what each node lacks and has too much is
 * known from the observed state. A node with none of its keys shares the design's (interned) key
 * list as what it lacks, so equal label patches are shared.
 */
export function createPlanningRun(
  observed: ClusterSnapshot,
  desired: DesiredState,
  cache: AnalysisCache,
  options: PlanningRunOptions = {},
): PlanningRun {
  const steps: Step[] = [];
  const indexOfNode = new Map<string, number>();
  for (let i = 0; i < observed.nodes.length; i++) indexOfNode.set(observed.nodes[i]?.name ?? "", i);
  let state = observed;
  let view = viewRoutes(observed, cache);
  let refusal: Refusal | undefined;
  const context = { cache, indexOfNode };

  const nodeNamed = (name: string): NodeInfo | undefined => {
    const i = indexOfNode.get(name);
    return i === undefined ? undefined : state.nodes[i];
  };
  const desiredKeysOf = (i: number, name: string): readonly string[] =>
    (desired.peerKeysOfNode === undefined
      ? desired.peerKeys.get(name)
      : desired.peerKeysOfNode[i]) ?? NO_KEYS;
  const reflectorKeys = new Map(desired.reflectors.map((r) => [r.key, r.node]));

  const dirty: number[] = [];
  const missingAtStart = new Map<number, readonly string[]>();
  const surplusAtStart: number[] = [];
  observed.nodes.forEach((node, i) => {
    const have = options.observedKeys?.[i] ?? readPeerKeys(node.labels);
    const wanted = desiredKeysOf(i, node.name);
    if (matchesDesign(node, desired, have, wanted)) return;
    dirty.push(i);
    if (sameKeys(have, wanted)) return;
    const missing = have.length === 0 ? wanted : wanted.filter((key) => !have.includes(key));
    if (missing.length > 0) missingAtStart.set(i, missing);
    if (have.some((key) => !wanted.includes(key))) surplusAtStart.push(i);
  });
  const reflectorish = dirty.filter((i) => {
    const node = observed.nodes[i];
    return (
      node !== undefined &&
      (isObservedReflector(node) || node.routeReflectorClusterId !== undefined)
    );
  });

  const peerLabels = new Map<string, string>();
  const peerLabelOf = (key: string): string => {
    let label = peerLabels.get(key);
    if (label === undefined) peerLabels.set(key, (label = peerLabel(key)));
    return label;
  };
  const peerPatches = new Map<readonly string[], Readonly<Record<string, string>>>();

  const attempt = (draft: StepDraft, unordered = false): Attempt => {
    const result = orderStep({ state, view }, draft, context);
    if (result.kind === "lost" || (result.kind === "unordered" && !unordered))
      return { taken: false, lost: result.lost, unordered: result.kind === "unordered" };
    steps.push(result.step);
    state = result.end.state;
    view = result.end.view;
    return { taken: true };
  };

  return {
    observed,
    desired,
    cache,
    steps,
    get state() {
      return state;
    },
    get view() {
      return view;
    },
    get refusal() {
      return refusal;
    },
    attempt,
    accept(draft) {
      if (refusal !== undefined) return false;
      if (draft === undefined) return true;
      const result = attempt(draft, true);
      if (!result.taken)
        refusal = { reason: "WouldLoseRoutes", description: draft.description, lost: result.lost };
      return result.taken;
    },
    nodeNamed,
    desiredKeysOf,
    nodeOfKey: (key) => reflectorKeys.get(key),
    needsBootstrap: () =>
      desired.bootstrapPeer !== undefined &&
      !desired.meshEnabled &&
      state.bgpConfiguration.nodeToNodeMeshEnabled &&
      desired.reflectors.some(
        (r) => r.ready && nodeNamed(r.node)?.routeReflectorClusterId !== r.clusterId,
      ),
    hasBootstrap: () =>
      state.bgpPeers.some((p) => p.name === BOOTSTRAP_PEER_NAME && isOwnedByRrfleet(p.labels)),
    missingAtStart,
    surplusAtStart,
    reflectorish,
    reflectorishNow() {
      const nodes: NodeInfo[] = [];
      for (const i of reflectorish) {
        const node = state.nodes[i];
        if (node !== undefined) nodes.push(node);
      }
      return nodes;
    },
    peerLabelOf,
    peerPatchOf(keys) {
      let patch = peerPatches.get(keys);
      if (patch === undefined) {
        const record: Record<string, string> = {};
        for (const key of keys) record[peerLabelOf(key)] = "true";
        peerPatches.set(keys, (patch = record));
      }
      return patch;
    },
  };
}

/** A node that is not (yet, or any more) a reflector: it changes its reflector sessions as a client. */
export function isClientNow(node: NodeInfo): boolean {
  return !isObservedReflector(node);
}

const NO_KEYS: readonly string[] = Object.freeze([]);

/** Whether a node already carries exactly the rrfleet labels and annotation the design gives it. */
function matchesDesign(
  node: NodeInfo,
  desired: DesiredState,
  have: readonly string[],
  wanted: readonly string[],
): boolean {
  if (!sameKeys(have, wanted)) return false;
  const clusterId = desired.clusterIds.get(node.name);
  if (node.routeReflectorClusterId !== clusterId) return false;
  return node.labels[REFLECTOR_LABEL] === desired.reflectorKeys.get(node.name);
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((key, i) => key === b[i]);
}
