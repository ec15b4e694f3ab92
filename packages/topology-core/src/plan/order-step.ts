import {
  compileBgpPeer,
  compilePeerings,
  coversSignature,
  createCachedMembership,
  signaturesPeer,
  type AnalysisCache,
  type Peering,
} from "../analysis/peerings.js";
import {
  findLostRoutes,
  viewRoutes,
  type MissingRoutes,
  type RouteView,
} from "../analysis/reachability-report.js";
import { viewTransition } from "../analysis/session-transition.js";
import type { Action, Step, StepReason } from "../model/actions.js";
import type { ClusterSnapshot, NodeInfo } from "../model/cluster.js";
import { isValidClusterId, parseIpv4 } from "../model/ipv4.js";
import { CLUSTER_ID_ANNOTATION } from "../model/names.js";
import { applyActions } from "./apply-actions.js";

/**
 * Ordering a step so that every prefix is safe.
 *
 * An executor applies a step one write at a time (Kubernetes has no multi-object transactions)
 * and Calico reacts to each write, so every prefix of the listed actions must keep every route
 * Ready nodes had before the step, not only the whole step. Checking every prefix with the
 * reachability analysis would cost one analysis per write (thousands when a step labels every
 * node), so most prefixes are covered by a monotonicity argument instead, and only the rest are
 * simulated.
 *
 * Monotonicity. In the iBGP model (see computeReachability), if state B has every BGP session of
 * state A, every reflector of A with the same cluster ID, and B's up reflectors either all peer
 * with each other ("complete") or all carry distinct cluster IDs, then B delivers every route A
 * delivers. With distinct IDs a route reaches every reflector connected to one the origin peers
 * with, which only grows with sessions. In a complete reflector graph a route reaches the
 * reflectors the origin peers with, plus every reflector whose ID differs from one of those (a
 * route from A's longer reflection paths always has such a first hop), which again only grows;
 * receivers that are not reflectors get a route from the origin or from any reflector holding it.
 * A node promoted in B keeps this when it peers (through BGPPeers, not the mesh) with every up
 * node: it then has every session it had, and every route at first hand.
 *
 * So each write is classified against the step's start S0 and end S1:
 *  - up: it only adds sessions (a BGPPeer created, the mesh turned on, labels that put a node on
 *    more selector sides), or promotes a node that peers with every up node;
 *  - down: it only removes sessions (a BGPPeer deleted, the mesh turned off, labels removed);
 *  - neutral: it changes no session (a NotReady node, a label no selector reads);
 *  - other: anything else (a cluster ID added, changed or removed, a BGPPeer's selectors edited).
 * The step is listed as ups, then others, then downs. Every prefix inside the ups has all of S0's
 * sessions (and reflectors), so it keeps S0's routes when S0 passes the reflector condition; every
 * prefix inside the downs has all of S1's sessions, so it keeps what S1 keeps (checked) when S1
 * passes it. Others are placed greedily, one at a time, each prefix simulated. A block whose
 * condition fails is simulated too, at representative prefixes only: nodes whose sessions change
 * the same way are interchangeable, and a prefix's routes depend only on which of them moved and
 * whether the moved and unmoved parts have at least two members.
 *
 * A step is `inAnyOrder` when it has at most one write, when it is all ups (and neutrals) under
 * the condition at S0, when it is all downs under the condition at S1, or when it has at most
 * three writes and every subset was simulated.
 */

/** A step before it is checked and ordered. */
export interface StepDraft {
  readonly reason: StepReason;
  readonly description: string;
  readonly actions: readonly Action[];
}

/** A state and its routes. */
export interface CheckedState {
  readonly state: ClusterSnapshot;
  readonly view: RouteView;
}

/** Result of {@link orderStep}. */
export type OrderedStep =
  | {
      /** Every prefix of `step.actions` keeps the routes of the start. */
      readonly kind: "ordered";
      readonly step: Step;
      readonly end: CheckedState;
    }
  | {
      /** The whole step loses routes. */
      readonly kind: "lost";
      readonly lost: MissingRoutes;
    }
  | {
      /**
       * The whole step keeps the routes, but no listed order was found whose every prefix does:
       * `lost` is what the first stuck prefix would lose; `step` lists the actions as drafted.
       */
      readonly kind: "unordered";
      readonly lost: MissingRoutes;
      readonly step: Step;
      readonly end: CheckedState;
    };

/** What {@link orderStep} shares with the planner. */
export interface OrderContext {
  readonly cache: AnalysisCache;
  /** Node name → index in the states' `nodes` (steps never add, remove or reorder nodes). */
  readonly indexOfNode: ReadonlyMap<string, number>;
}

/** Subsets of steps this small are simulated exhaustively when no argument covers them. */
const EXHAUSTIVE_SUBSETS_UP_TO = 3;

type Kind = "up" | "down" | "neutral" | "other";

/** Shared empty list (never pushed to): most writes are checked without allocating. */
const NO_KEYS: string[] = [];

/**
 * Checks a drafted step from `start` and orders its actions so that every prefix keeps every
 * route Ready nodes had at the start (see the module comment); sets `inAnyOrder`. Throws only
 * when an action cannot apply (a planner bug, as in applyActions).
 */
export function orderStep(
  start: CheckedState,
  draft: StepDraft,
  context: OrderContext,
): OrderedStep {
  const s0 = start.state;
  const v0 = start.view;
  const s1 = applyActions(s0, draft.actions, context.indexOfNode);
  const v1 = advance(v0, s1, draft.actions, context);
  const lost = findLostRoutes(v0, v1);
  if (lost.pairs > 0) return { kind: "lost", lost };
  // Real BGP: while new and restarted sessions come up, only the stable ones carry routes.
  const transition = viewTransition(v0, v1);
  const lostInTransition = findLostRoutes(v0, transition);
  if (lostInTransition.pairs > 0) return { kind: "lost", lost: lostInTransition };
  const end = { state: s1, view: v1 };
  const stepOf = (actions: readonly Action[], inAnyOrder: boolean): Step => ({
    description: draft.description,
    reason: draft.reason,
    requiresEstablishedSessions: transition.removesSessions,
    inAnyOrder,
    actions,
  });
  if (draft.actions.length <= 1) return { kind: "ordered", step: stepOf(draft.actions, true), end };

  const kinds = classifyActions(start, end, draft.actions, context);
  const ups: Action[] = [];
  const others: Action[] = [];
  const downs: Action[] = [];
  let strictUps = 0; // ups that do change sessions (not neutral)
  draft.actions.forEach((action, i) => {
    const kind = kinds.kind[i] ?? "other";
    if (kind === "up" || kind === "neutral") ups.push(action);
    else if (kind === "down") downs.push(action);
    else others.push(action);
    if (kind === "up") strictUps++;
  });
  // Role changes (few) by block: promotions sit in the ups, demotions in the downs.
  const promotions = [...kinds.roles].filter(([, role]) => role.promotion);
  const demotions = [...kinds.roles].filter(([, role]) => !role.promotion);
  /** Moves role changes the condition does not cover from `block` to the others. */
  const demote = (
    block: Action[],
    roles: [Action, RoleChange][],
    which: (role: RoleChange) => boolean,
  ): [Action, RoleChange][] => {
    const kept: [Action, RoleChange][] = [];
    for (const [action, role] of roles) {
      const at = which(role) ? block.indexOf(action) : -1;
      if (at < 0) {
        kept.push([action, role]);
        continue;
      }
      block.splice(at, 1);
      others.push(action);
      if (role.promotion) strictUps--;
    }
    return kept;
  };
  const idsOf = (roles: readonly [Action, RoleChange][]) => roles.map(([, role]) => role.id);
  let upsProven = strictUps === 0 || hasDistinctClusterIds(v0, idsOf(promotions));
  if (!upsProven) {
    if (isCompleteReflectorGraph(v0)) {
      demote(ups, promotions, (role) => !role.universal);
      upsProven = true;
    } else {
      demote(ups, promotions, () => true);
      upsProven = strictUps === 0 || hasDistinctClusterIds(v0, []);
    }
  }
  let downsProven = downs.length === 0 || hasDistinctClusterIds(v1, idsOf(demotions));
  if (!downsProven) {
    demote(downs, demotions, () => true);
    downsProven =
      downs.length === 0 || isCompleteReflectorGraph(v1) || hasDistinctClusterIds(v1, []);
  }

  // Ups (simulated when unproven), then others placed greedily, then downs.
  let at: CheckedState = start;
  const ordered: Action[] = [];
  if (upsProven) {
    if (ups.length > 0) {
      at = others.length === 0 && downs.length === 0 ? end : reach(at, ups, context);
      ordered.push(...ups);
    }
  } else {
    const block = verifyBlock(v0, at, ups, context);
    if (block.kind === "lost") return unordered(block.lost);
    at = block.end;
    ordered.push(...block.actions);
  }
  let remaining = others;
  while (remaining.length > 0) {
    let placed = -1;
    let firstLoss: MissingRoutes | undefined;
    for (let i = 0; i < remaining.length && placed < 0; i++) {
      const action = remaining[i];
      if (action === undefined) continue;
      const next =
        remaining.length === 1 && downs.length === 0 ? end : reach(at, [action], context);
      const loss = findLostRoutes(v0, next.view);
      if (loss.pairs === 0) {
        placed = i;
        at = next;
        ordered.push(action);
      } else {
        firstLoss ??= loss;
      }
    }
    if (placed < 0) return unordered(firstLoss ?? { pairs: 0 });
    remaining = remaining.filter((_, i) => i !== placed);
  }
  if (downsProven) {
    ordered.push(...downs);
  } else {
    const block = verifyBlock(v0, at, downs, context);
    if (block.kind === "lost") return unordered(block.lost);
    ordered.push(...block.actions);
  }

  const proven =
    others.length === 0 && ((downs.length === 0 && upsProven) || (strictUps === 0 && downsProven));
  const inAnyOrder =
    proven ||
    (ordered.length <= EXHAUSTIVE_SUBSETS_UP_TO && everySubsetKeepsRoutes(start, ordered, context));
  return { kind: "ordered", step: stepOf(ordered, inAnyOrder), end };

  function unordered(loss: MissingRoutes): OrderedStep {
    return { kind: "unordered", lost: loss, step: stepOf(draft.actions, false), end };
  }
}

/** The view of `state`, derived from `from` (its predecessor) reusing unchanged nodes' signatures. */
function advance(
  from: RouteView,
  state: ClusterSnapshot,
  actions: readonly Action[],
  context: OrderContext,
): RouteView {
  // Built only if asked: with new BGPPeers every signature is computed afresh anyway.
  let set: Set<number> | undefined;
  const changed = {
    has(index: number): boolean {
      if (set === undefined) {
        set = new Set();
        for (const action of actions)
          if (action.kind === "Node") set.add(context.indexOfNode.get(action.name) ?? -1);
      }
      return set.has(index);
    },
  };
  return viewRoutes(state, context.cache, { view: from, changed });
}

function reach(
  from: CheckedState,
  actions: readonly Action[],
  context: OrderContext,
): CheckedState {
  const state = applyActions(from.state, actions, context.indexOfNode);
  return { state, view: advance(from.view, state, actions, context) };
}

/**
 * A write that adds or removes a node's cluster ID. It counts as an up (promotion) or down
 * (demotion) only under the reflector condition with distinct IDs, or, for a promotion of a node
 * that peers with every up node, a complete reflector graph too.
 */
interface RoleChange {
  readonly id: number;
  readonly promotion: boolean;
  readonly universal: boolean;
}

interface Classification {
  readonly kind: readonly Kind[];
  readonly roles: ReadonlyMap<Action, RoleChange>;
}

function roleOf(node: NodeInfo | undefined): string | undefined {
  const id = node?.routeReflectorClusterId;
  return isValidClusterId(id) ? id : undefined;
}

function classifyActions(
  start: CheckedState,
  end: CheckedState,
  actions: readonly Action[],
  context: OrderContext,
): Classification {
  const { cache, indexOfNode } = context;
  const s0 = start.state;
  const s1 = end.state;
  const graph0 = start.view.graph;
  const graph1 = end.view.graph;
  // Signatures of Ready nodes are in the views already: a node's S0 signature before the step and
  // its S1 signature after it. The other two are needed only when the step changes BGPPeers, and
  // then only when the write touches a label some selector reads.
  const samePeerings = graph0.peeringFingerprint === graph1.peeringFingerprint;
  let side0:
    { peerings: Peering[]; keys: ReadonlySet<string>; of: (n: NodeInfo) => string } | undefined;
  let side1: typeof side0;
  const sideOf = (state: ClusterSnapshot): NonNullable<typeof side0> => {
    const peerings = compilePeerings(state, cache);
    return { peerings, keys: readKeys(peerings), of: createCachedMembership(peerings, cache) };
  };
  const peeringCount0 = (): number => (side0 ??= sideOf(s0)).peerings.length;
  /** Whether the write keeps or widens the node's S0 sessions (compared under S0's BGPPeers). */
  const widens = (i: number, after: NodeInfo, changed: readonly string[]): boolean => {
    const before = graph0.signatureOfIndex[i] ?? "";
    if (samePeerings) return coversSignature(graph1.signatureOfIndex[i] ?? "", before);
    side0 ??= sideOf(s0);
    const { keys, of } = side0;
    return !changed.some((key) => keys.has(key)) || coversSignature(of(after), before);
  };
  /** Whether the write keeps or narrows the node's S1 sessions (compared under S1's BGPPeers). */
  const narrows = (i: number, before: NodeInfo, changed: readonly string[]): boolean => {
    const after = graph1.signatureOfIndex[i] ?? "";
    if (samePeerings) return coversSignature(graph0.signatureOfIndex[i] ?? "", after);
    side1 ??= sideOf(s1);
    const { keys, of } = side1;
    return !changed.some((key) => keys.has(key)) || coversSignature(of(before), after);
  };
  /** Positions of label writes classified as ups, with their node index and changed keys. */
  const tentativeUps: number[] = [];
  const tentativeUpsNodes: number[] = [];
  const tentativeUpsKeys: string[][] = [];
  let anyDown = false;
  // A reflector never takes part in the mesh, so with the mesh off in both states a node that
  // gains or loses a cluster ID keeps exactly its sessions.
  const meshOff =
    !s0.bgpConfiguration.nodeToNodeMeshEnabled && !s1.bgpConfiguration.nodeToNodeMeshEnabled;
  let universal: ((index: number) => boolean) | undefined;
  const roles = new Map<Action, RoleChange>();

  const classify = (action: Action): Kind => {
    switch (action.kind) {
      case "BGPConfiguration": {
        const before = s0.bgpConfiguration.nodeToNodeMeshEnabled;
        const after = applyActions(s0, [action]).bgpConfiguration.nodeToNodeMeshEnabled;
        return before === after ? "neutral" : after ? "up" : "down";
      }
      case "BGPPeer": {
        if (action.verb === "create") return "up";
        if (action.verb === "delete") return "down";
        const name = action.object.metadata.name;
        const old = s0.bgpPeers.find((p) => p.name === name);
        const now = s1.bgpPeers.find((p) => p.name === name);
        if (old === undefined || now === undefined) return "other";
        return samePeering(compileBgpPeer(old, cache), compileBgpPeer(now, cache))
          ? "neutral"
          : "other";
      }
      case "Node": {
        const i = indexOfNode.get(action.name) ?? -1;
        const before = s0.nodes[i];
        const after = s1.nodes[i];
        if (before === undefined || after === undefined) return "other";
        if (!before.ready) return "neutral"; // a NotReady node has no sessions either way
        const metadata = action.patch.metadata;
        let changed: string[] = NO_KEYS;
        const patch = metadata.labels;
        if (patch !== undefined)
          for (const key in patch)
            if ((before.labels[key] ?? null) !== patch[key]) {
              if (changed === NO_KEYS) changed = [];
              changed.push(key);
            }
        const changesLabels = changed.length > 0;
        const annotation = metadata.annotations?.[CLUSTER_ID_ANNOTATION];
        const oldRole = roleOf(before);
        const newRole =
          annotation === undefined
            ? oldRole
            : annotation !== null && isValidClusterId(annotation)
              ? annotation
              : undefined;
        if (newRole !== oldRole) {
          if (changesLabels) return "other";
          if (oldRole === undefined && newRole !== undefined) {
            universal ??= createUniversalCheck(start.view, peeringCount0());
            const everywhere = universal(i);
            if (!everywhere && !meshOff) return "other";
            roles.set(action, {
              id: parseIpv4(newRole) ?? 0,
              promotion: true,
              universal: everywhere,
            });
            return "up";
          }
          if (oldRole !== undefined && newRole === undefined && meshOff) {
            roles.set(action, { id: parseIpv4(oldRole) ?? 0, promotion: false, universal: false });
            return "down";
          }
          return "other";
        }
        if (!changesLabels) return "neutral";
        // Selectors read labels only, so the node with S0's labels and S1's labels compares the
        // label change alone, whatever the step does to its cluster ID.
        if (widens(i, after, changed)) {
          tentativeUps.push(kind.length);
          tentativeUpsNodes.push(i);
          tentativeUpsKeys.push(changed);
          return "up";
        }
        if (narrows(i, before, changed)) {
          anyDown = true;
          return "down";
        }
        return "other";
      }
    }
  };
  const kind: Kind[] = [];
  for (const action of actions) {
    const k = classify(action);
    if (k === "down" || k === "other") anyDown = true;
    kind.push(k);
  }
  // Whether an up also narrows (so changes no session) matters only next to downs or others.
  if (anyDown)
    tentativeUps.forEach((at, u) => {
      const i = tentativeUpsNodes[u] ?? -1;
      const before = s0.nodes[i];
      if (before !== undefined && narrows(i, before, tentativeUpsKeys[u] ?? []))
        kind[at] = "neutral";
    });
  return { kind, roles };
}

/** Every label key the peerings' selectors read. */
function readKeys(peerings: readonly Peering[]): Set<string> {
  const keys = new Set<string>();
  for (const p of peerings) {
    if (typeof p.side !== "string") for (const key of p.side.keys) keys.add(key);
    for (const key of p.peers.keys) keys.add(key);
  }
  return keys;
}

function samePeering(a: Peering | null, b: Peering | null): boolean {
  if (a === null || b === null) return a === b;
  const side = (p: Peering) => (typeof p.side === "string" ? `node:${p.side}` : p.side.source);
  return side(a) === side(b) && a.peers.source === b.peers.source;
}

/**
 * Returns a predicate: whether the node at an index peers, through BGPPeers (not the mesh), with
 * every other up node of `view`'s state.
 */
function createUniversalCheck(view: RouteView, peeringCount: number): (index: number) => boolean {
  const { graph } = view;
  // One member per entity stands for it: members of an entity share their signature.
  const representative = new Int32Array(graph.entities.length).fill(-1);
  graph.entityOfIndex.forEach((entity, index) => {
    if (entity >= 0 && representative[entity] === -1) representative[entity] = index;
  });
  return (index) => {
    const own = graph.entityOfIndex[index] ?? -1;
    if (own < 0) return false;
    const mine = graph.signatureOfIndex[index] ?? "";
    for (let e = 0; e < graph.entities.length; e++) {
      const entity = graph.entities[e];
      const member = representative[e] ?? -1;
      if (entity === undefined || member < 0) continue;
      if (e === own && entity.size < 2) continue;
      const theirs = graph.signatureOfIndex[member] ?? "";
      if (!signaturesPeer(mine, theirs, peeringCount)) return false;
    }
    return true;
  };
}

/** Whether the up reflectors of `view` all peer with each other. */
function isCompleteReflectorGraph(view: RouteView): boolean {
  const { entities, adjacency } = view.graph;
  const n = entities.length;
  let reflectors = 0;
  while (entities[reflectors]?.kind === "reflector") reflectors++;
  for (let i = 0; i < reflectors; i++)
    for (let j = i + 1; j < reflectors; j++) if (adjacency[i * n + j] !== 1) return false;
  return true;
}

/** Whether the up reflectors of `view`, plus reflectors with cluster IDs `extra`, have distinct IDs. */
function hasDistinctClusterIds(view: RouteView, extra: readonly number[]): boolean {
  const seen = new Set<number>();
  for (const entity of view.graph.entities) {
    if (entity.kind !== "reflector") break;
    if (seen.has(entity.clusterId)) return false;
    seen.add(entity.clusterId);
  }
  for (const id of extra) {
    if (seen.has(id)) return false;
    seen.add(id);
  }
  return true;
}

type BlockResult =
  | { readonly kind: "ok"; readonly actions: readonly Action[]; readonly end: CheckedState }
  | { readonly kind: "lost"; readonly lost: MissingRoutes };

/**
 * Simulates a block of ups or downs whose monotonicity argument does not hold, checking its
 * prefixes against `baseline`: non-node writes first, one by one; then node writes grouped by
 * how they change a node's sessions, checked at representative prefixes (see the module comment).
 */
function verifyBlock(
  baseline: RouteView,
  from: CheckedState,
  block: readonly Action[],
  context: OrderContext,
): BlockResult {
  const { cache, indexOfNode } = context;
  let at = from;
  const ordered: Action[] = [];
  const check = (next: CheckedState): MissingRoutes | undefined => {
    const lost = findLostRoutes(baseline, next.view);
    return lost.pairs > 0 ? lost : undefined;
  };
  for (const action of block) {
    if (action.kind === "Node") continue;
    at = reach(at, [action], context);
    ordered.push(action);
    const lost = check(at);
    if (lost !== undefined) return { kind: "lost", lost };
  }
  const nodeActions = block.filter((a) => a.kind === "Node");
  if (nodeActions.length === 0) return { kind: "ok", actions: ordered, end: at };
  const blockEnd = applyActions(at.state, nodeActions, indexOfNode);
  const membership = createCachedMembership(compilePeerings(at.state, cache), cache);
  const classes = new Map<string, Action[]>();
  for (const action of nodeActions) {
    const i = indexOfNode.get(action.name) ?? -1;
    const before = at.state.nodes[i];
    const after = blockEnd.nodes[i];
    let key: string;
    if (before === undefined || after === undefined || !before.ready) key = "";
    else if (roleOf(before) !== undefined || roleOf(after) !== undefined) key = `r:${before.name}`;
    else key = `c:${membership(before)}\u0002${membership(after)}`;
    const list = classes.get(key);
    if (list === undefined) classes.set(key, [action]);
    else list.push(action);
  }
  for (const [key, members] of classes) {
    const k = members.length;
    // NotReady nodes change no session: no prefix inside their class needs a check.
    const checkpoints =
      key === ""
        ? [k]
        : [...new Set([1, 2, k - 2, k - 1, k])]
            .filter((j) => j >= 1 && j <= k)
            .sort((a, b) => a - b);
    let done = 0;
    for (const j of checkpoints) {
      const chunk = members.slice(done, j);
      done = j;
      at = reach(at, chunk, context);
      ordered.push(...chunk);
      if (key === "") continue;
      const lost = check(at);
      if (lost !== undefined) return { kind: "lost", lost };
    }
  }
  return { kind: "ok", actions: ordered, end: at };
}

/** Simulates every proper, non-empty subset of a few actions against the start's routes. */
function everySubsetKeepsRoutes(
  start: CheckedState,
  actions: readonly Action[],
  context: OrderContext,
): boolean {
  const full = (1 << actions.length) - 1;
  for (let mask = 1; mask < full; mask++) {
    const subset = actions.filter((_, i) => (mask & (1 << i)) !== 0);
    const next = reach(start, subset, context);
    if (findLostRoutes(start.view, next.view).pairs > 0) return false;
  }
  return true;
}
