import { viewRoutes, type MissingRoutes, type RouteView } from "../analysis/reachability-report.js";
import type {
  Action,
  BgpConfigurationPatch,
  NodePatch,
  Step,
  StepReason,
} from "../model/actions.js";
import type { ClusterSnapshot, NodeInfo } from "../model/cluster.js";
import { formatIpv4, isValidClusterId, parseIpv4 } from "../model/ipv4.js";
import {
  BOOTSTRAP_PEER_NAME,
  CLUSTER_ID_ANNOTATION,
  isOwnedByRrfleet,
  peerLabel,
  readPeerKeys,
  REFLECTOR_LABEL,
} from "../model/names.js";
import { compareStrings } from "../model/order.js";
import { renderBootstrapPeer, type DesiredState } from "../render/render-desired.js";
import { createAnalysisCache, type AnalysisCache } from "../analysis/peerings.js";
import { isObservedReflector } from "../topology/select-reflectors.js";
import { findSessionPartners } from "./find-session-partners.js";
import { orderStep, type StepDraft } from "./order-step.js";

/** A step the safety interlock refused because it would lose routes. */
export interface Refusal {
  readonly reason: "WouldLoseRoutes";
  readonly description: string;
  readonly lost: MissingRoutes;
}

/** Result of {@link planSteps}. */
export interface StepPlan {
  readonly steps: readonly Step[];
  /** The state after the last accepted step. */
  readonly final: ClusterSnapshot;
  readonly finalView: RouteView;
  /** Set when the plan stops early because the next step would lose routes. */
  readonly refusal?: Refusal;
}

/** Options of {@link planSteps}. */
export interface PlanStepsOptions {
  /** Each observed node's readPeerKeys, by index, when the caller has read them already. */
  readonly observedKeys?: readonly (readonly string[])[];
}

/** Calico rejects these BGPConfiguration fields while the mesh is off (3.32). */
const MESH_ONLY_FIELDS = ["nodeMeshMaxRestartTime", "nodeMeshPassword"] as const;

/**
 * Orders the changes from `observed` to `desired` make-before-break:
 *
 *  0. mesh back on first, if no reflector can serve (fail-safe);
 *  1. prepare: create/repair rrfleet BGPPeers (and the bootstrap BGPPeer, see below), label new
 *     reflectors (moving a leaving node off a designed key), pre-peer clients with reflectors not
 *     promoted yet (sessions to a plain node change no client's reflectors);
 *  1b. demote leaving reflectors that shadow a designed cluster ID, where that alone is safe;
 *  2. add the remaining client peerings, one new reflector per client per step;
 *  3. promote (annotate) reflectors: in one step while the mesh is on, in waves that touch each
 *     client once while it is off; a promotion that would lose routes now waits for step 6;
 *  4. mesh off, once reflectors carry every route, and the bootstrap BGPPeer with it;
 *  5. remove old client peerings, one per client per step (retried after step 6 if refused);
 *  6. demote reflectors that go, in waves; then the promotions and removals that waited;
 *  7. delete BGPPeers nobody uses.
 *
 * Every step is simulated and checked by the reachability analysis; a step that would lose a route
 * some pair of Ready nodes had before is refused and the plan stops there. Kubernetes applies a
 * step one write at a time, so each step's writes are also ordered so that every prefix keeps
 * those routes, and marked `inAnyOrder` when every subset does (see orderStep). A demotion is two
 * writes per node, the cluster ID first and the labels after, so a reflector stops reflecting
 * while it still has its sessions: two leaving reflectors sharing a cluster ID, which each need
 * the other to stay a reflector or be gone, can then go one after the other.
 *
 * The bootstrap BGPPeer (`rrfleet-reflector-bootstrap`, every node × every node labelled as a
 * reflector) exists only while reflectors are promoted with the mesh on, in `multi` and `zoned`.
 * A reflector leaves the mesh the moment it gets its cluster ID; without the bootstrap, nodes that
 * are not its clients would lose its routes (and it theirs) until another reflector reflects them,
 * so all promotions had to land together, which no API server can do. With it, each promoted
 * reflector already has a session with every node, so promotions land one by one in any order;
 * the mesh then goes off, and the bootstrap goes in the same step (after the mesh write), once
 * every client has its designed peerings. It adds one BGPPeer (R + 2 at most) and, for a while,
 * R sessions per node: nothing next to the mesh's N − 1. `single` needs none: every client peers
 * every reflector anyway.
 *
 * Last resort: a step whose whole keeps the routes but for which orderStep finds no safe order of
 * its writes (after untangling, for demotions) is taken as drafted, with `inAnyOrder` false, rather
 * than stopping the plan: the old behaviour. Random clusters no longer reach it; a cluster that did
 * would need leaving reflectors that depend on each other in a way neither fresh cluster IDs nor
 * sessions with every node (mesh on) can break, or, with the mesh off, where only sessions with
 * every node could (the bootstrap is not used with the mesh off: it would change many reflector
 * sessions of each client in one step).
 */
export function planSteps(
  observed: ClusterSnapshot,
  desired: DesiredState,
  cache: AnalysisCache = createAnalysisCache(),
  options: PlanStepsOptions = {},
): StepPlan {
  const steps: Step[] = [];
  const indexOfNode = new Map<string, number>();
  for (let i = 0; i < observed.nodes.length; i++) indexOfNode.set(observed.nodes[i]?.name ?? "", i);
  /** A node of the current state by name (states keep the observed node order). */
  const nodeNamed = (current: ClusterSnapshot, name: string): NodeInfo | undefined => {
    const i = indexOfNode.get(name);
    return i === undefined ? undefined : current.nodes[i];
  };
  let state = observed;
  let view = viewRoutes(observed, cache);
  let refusal: Refusal | undefined;
  const context = { cache, indexOfNode };

  /**
   * Simulates and checks a step and orders its writes; takes it and returns true unless it would
   * lose routes, or unless no order keeps them after every write (then, with `unordered`, it is
   * taken as drafted: see orderStep).
   */
  const attempt = (
    draft: StepDraft,
    unordered = false,
  ): { taken: true } | { taken: false; lost: MissingRoutes; unordered: boolean } => {
    const result = orderStep({ state, view }, draft, context);
    if (result.kind === "lost" || (result.kind === "unordered" && !unordered))
      return { taken: false, lost: result.lost, unordered: result.kind === "unordered" };
    steps.push(result.step);
    state = result.end.state;
    view = result.end.view;
    return { taken: true };
  };
  /** Like {@link attempt} (taking a step no order makes safe write by write), but a refusal stops the plan. */
  const accept = (step: StepDraft | undefined): boolean => {
    if (refusal !== undefined) return false;
    if (step === undefined) return true;
    const result = attempt(step, true);
    if (!result.taken)
      refusal = { reason: "WouldLoseRoutes", description: step.description, lost: result.lost };
    return result.taken;
  };
  const peerKeysOf = readPeerKeys;
  /** The client keys the design gives the node at index `i` (named `name`). */
  const desiredKeysOf = (i: number, name: string): readonly string[] =>
    (desired.peerKeysOfNode === undefined
      ? desired.peerKeys.get(name)
      : desired.peerKeysOfNode[i]) ?? NO_KEYS;
  const reflectorKeys = new Map(desired.reflectors.map((r) => [r.key, r.node]));
  /** Whether the bootstrap BGPPeer is needed now: Ready reflectors to promote with the mesh on. */
  const needsBootstrap = (): boolean =>
    desired.bootstrapPeer !== undefined &&
    !desired.meshEnabled &&
    state.bgpConfiguration.nodeToNodeMeshEnabled &&
    desired.reflectors.some(
      (r) => r.ready && nodeNamed(state, r.node)?.routeReflectorClusterId !== r.clusterId,
    );
  const hasBootstrap = (): boolean =>
    state.bgpPeers.some((p) => p.name === BOOTSTRAP_PEER_NAME && isOwnedByRrfleet(p.labels));
  // Only nodes whose rrfleet labels or reflector annotation differ from the design take part in
  // the phases below; on a converged cluster that is none, and planning is a single scan.
  // Steps only ever add designed client labels and remove ones the cluster had that the design
  // drops, so what each node lacks and has too much is known from the observed state.
  // Nodes are tracked by index (states keep the observed order). A node with none of its keys
  // shares the design's (interned) key list as what it lacks, so equal label patches are shared.
  const dirty: number[] = [];
  const missingAtStart = new Map<number, readonly string[]>();
  const surplusAtStart: number[] = [];
  observed.nodes.forEach((node, i) => {
    const have = options.observedKeys?.[i] ?? peerKeysOf(node.labels);
    const wanted = desiredKeysOf(i, node.name);
    if (matchesDesign(node, desired, have, wanted)) return;
    dirty.push(i);
    if (sameKeys(have, wanted)) return;
    const missing = have.length === 0 ? wanted : wanted.filter((key) => !have.includes(key));
    if (missing.length > 0) missingAtStart.set(i, missing);
    if (have.some((key) => !wanted.includes(key))) surplusAtStart.push(i);
  });
  // Dirty nodes with a reflector label or a cluster ID annotation: the only ones that can be
  // reflectors on their way out (steps give neither to other nodes outside the design).
  const reflectorish = dirty.filter((i) => {
    const node = observed.nodes[i];
    return (
      node !== undefined &&
      (isObservedReflector(node) || node.routeReflectorClusterId !== undefined)
    );
  });
  /** Those nodes as they are in the current state. */
  const reflectorishNow = (): NodeInfo[] => {
    const nodes: NodeInfo[] = [];
    for (const i of reflectorish) {
      const node = state.nodes[i];
      if (node !== undefined) nodes.push(node);
    }
    return nodes;
  };
  const peerLabels = new Map<string, string>();
  const peerLabelOf = (key: string): string => {
    let label = peerLabels.get(key);
    if (label === undefined) peerLabels.set(key, (label = peerLabel(key)));
    return label;
  };
  /** `{ rrfleet.io/peer-<key>: "true" }` for each key, one shared object per key list. */
  const peerPatches = new Map<readonly string[], Readonly<Record<string, string>>>();
  const peerPatchOf = (keys: readonly string[]): Readonly<Record<string, string>> => {
    let patch = peerPatches.get(keys);
    if (patch === undefined) {
      const record: Record<string, string> = {};
      for (const key of keys) record[peerLabelOf(key)] = "true";
      peerPatches.set(keys, (patch = record));
    }
    return patch;
  };
  const promotionStep = (wave: readonly string[]): StepDraft => {
    const builder = createStepBuilder();
    for (const name of wave) builder.annotate(name, desired.clusterIds.get(name) ?? null);
    const names = wave.map((name) => `${name} (${desired.clusterIds.get(name) ?? ""})`);
    return (
      builder.build(
        "PromoteReflectors",
        `promote ${count(wave.length, "reflector")}: ${listNames(names)}`,
        true,
      ) ?? fail()
    );
  };
  const demotionStep = (wave: readonly string[]): StepDraft => {
    const builder = createStepBuilder();
    for (const name of wave) {
      const node = nodeNamed(state, name);
      if (node?.routeReflectorClusterId !== undefined) builder.annotate(name, null);
      if (node?.labels[REFLECTOR_LABEL] !== undefined) builder.label(name, REFLECTOR_LABEL, null);
    }
    return (
      builder.build(
        "DemoteReflectors",
        `demote ${count(wave.length, "reflector")}: ${listNames(wave)}`,
        false,
      ) ?? fail()
    );
  };
  /**
   * Takes waves of promotions or demotions. A refused wave is retried one member at a time, and
   * refused members again after the others, for as long as that makes progress, then all
   * together; when that is stuck too, `untangle` (if given) may change what holds the members
   * back, once, and the waves are retried. Returns what could not be taken; with `final`, stuck
   * members go together even when no order of their writes is safe one by one (the state before
   * and after is checked), and what is still refused stops the plan.
   */
  const takeInWaves = (
    waves: readonly string[][],
    stepFor: (wave: readonly string[]) => StepDraft,
    final: boolean,
    untangle?: (stuck: readonly string[]) => boolean,
  ): string[] => {
    let pending = waves.filter((w) => w.length > 0);
    let untangled = untangle === undefined;
    while (pending.length > 0 && refusal === undefined) {
      const next: string[][] = [];
      let progress = false;
      for (const wave of pending) {
        if (attempt(stepFor(wave)).taken) {
          progress = true;
          continue;
        }
        for (const name of wave) {
          if (wave.length > 1 && attempt(stepFor([name])).taken) progress = true;
          else next.push([name]);
        }
      }
      pending = next;
      if (progress || pending.length === 0) continue;
      // Members that each need the other changed (a shared cluster ID) go in one step, ordered
      // write by write where an order exists.
      const together = attempt(stepFor(pending.flat()));
      if (together.taken) {
        pending = [];
        continue;
      }
      // Safe together, but not write by write: untangle them, then retry.
      if (together.unordered && !untangled && untangle !== undefined) {
        untangled = true;
        if (untangle(pending.flat())) continue;
      }
      break;
    }
    // The last resort (the planner's old behaviour): together, safe before and after though not
    // write by write. Not reached in tens of thousands of random plans since untangling; kept so
    // that a cluster untangling cannot separate still converges (see the module comment).
    if (final && pending.length > 0 && attempt(stepFor(pending.flat()), true).taken) pending = [];
    if (final && pending[0] !== undefined) accept(stepFor(pending[0]));
    return pending.flat();
  };
  /**
   * Leaving reflectors that can only go together (each carries routes the other's clients need,
   * usually through a cluster ID they share with each other or with a designed reflector) are
   * given what lets them go one at a time: first a cluster ID of their own each (a finer split of
   * IDs only drops fewer reflections), in waves that touch each client once; then, with the mesh
   * on, a session with every node (the bootstrap BGPPeer and a spare reflector key), so that
   * whichever goes first, the others still reach every node at first hand. Returns whether a step
   * was taken.
   */
  const untangleDemotions = (stuck: readonly string[]): boolean => {
    let progress = false;
    const upIds = new Map<string, number>();
    for (const node of state.nodes) {
      const id = node.routeReflectorClusterId;
      if (node.ready && isValidClusterId(id)) upIds.set(id, (upIds.get(id) ?? 0) + 1);
    }
    const shared = stuck.filter((name) => {
      const node = nodeNamed(state, name);
      const id = node?.routeReflectorClusterId;
      return node?.ready === true && isValidClusterId(id) && (upIds.get(id) ?? 0) > 1;
    });
    if (shared.length > 0) {
      const fresh = freshClusterIds(state, desired, shared.length);
      const idOf = new Map(shared.map((name, i) => [name, fresh[i] ?? ""]));
      for (const wave of groupIntoWaves(
        shared,
        findSessionPartners(state, shared, isClientNow, cache),
      )) {
        const builder = createStepBuilder();
        for (const name of wave) builder.annotate(name, idOf.get(name) ?? null);
        const draft = builder.build(
          "DemoteReflectors",
          `give ${count(wave.length, "leaving reflector")} a cluster ID of its own before it goes: ${listNames(wave.map((name) => `${name} (${idOf.get(name) ?? ""})`))}`,
          true,
        );
        if (draft !== undefined && attempt(draft).taken) progress = true;
      }
    }
    if (state.bgpConfiguration.nodeToNodeMeshEnabled) {
      const builder = createStepBuilder();
      if (!hasBootstrap())
        builder.action({
          verb: "create",
          kind: "BGPPeer",
          object: renderBootstrapPeer(state.calicoApiVersion),
        });
      let spare = spareReflectorKey(state, desired);
      const labelled: string[] = [];
      for (const name of stuck) {
        const node = nodeNamed(state, name);
        if (node === undefined || node.labels[REFLECTOR_LABEL] !== undefined) continue;
        builder.label(name, REFLECTOR_LABEL, String(spare++));
        labelled.push(name);
      }
      const draft = builder.build(
        "PrepareReflectors",
        `peer ${count(stuck.length, "leaving reflector")} with every node so they can go one by one: ${listNames(stuck)}${labelled.length > 0 ? ` (label ${listNames(labelled)})` : ""}`,
        true,
      );
      if (draft !== undefined && attempt(draft).taken) progress = true;
    }
    return progress;
  };

  // 0. Fail-safe: the mesh comes back before anything else changes.
  if (desired.meshEnabled && !state.bgpConfiguration.nodeToNodeMeshEnabled) {
    accept(meshStep(state, true));
  }

  // 1. Prepare.
  {
    const builder = createStepBuilder();
    const peersByName = new Map(state.bgpPeers.map((p) => [p.name, p]));
    let peerWrites = 0;
    const wanted =
      desired.bootstrapPeer !== undefined && needsBootstrap()
        ? [...desired.bgpPeers, desired.bootstrapPeer]
        : desired.bgpPeers;
    for (const object of wanted) {
      const current = peersByName.get(object.metadata.name);
      if (current === undefined) {
        builder.action({ verb: "create", kind: "BGPPeer", object });
        peerWrites++;
      } else if (
        current.nodeSelector !== object.spec.nodeSelector ||
        current.peerSelector !== object.spec.peerSelector ||
        current.node !== undefined ||
        current.peerIP !== undefined ||
        !sameLabels(current.labels, object.metadata.labels)
      ) {
        const withVersion =
          current.resourceVersion === undefined
            ? object
            : {
                ...object,
                metadata: { ...object.metadata, resourceVersion: current.resourceVersion },
              };
        builder.action({ verb: "update", kind: "BGPPeer", object: withVersion });
        peerWrites++;
      }
    }
    const labelled: string[] = [];
    for (const reflector of desired.reflectors) {
      const node = nodeNamed(state, reflector.node);
      if (node?.labels[REFLECTOR_LABEL] !== reflector.key) {
        builder.label(reflector.node, REFLECTOR_LABEL, reflector.key);
        labelled.push(reflector.node);
      }
    }
    // A node on its way out that carries a designed reflector's key (two nodes labelled with one
    // key) would catch that reflector's clients too: move it to a key nobody uses.
    const designedKeys = new Set(desired.reflectorKeys.values());
    let spareKey = 0; // found on first use
    for (const node of reflectorishNow()) {
      const key = node.labels[REFLECTOR_LABEL];
      if (key === undefined || !designedKeys.has(key) || desired.reflectorKeys.has(node.name))
        continue;
      if (spareKey === 0) {
        spareKey = 1;
        for (const other of state.nodes) {
          const value = Number(other.labels[REFLECTOR_LABEL] ?? 0);
          if (Number.isFinite(value) && value >= spareKey) spareKey = value + 1;
        }
      }
      builder.label(node.name, REFLECTOR_LABEL, String(spareKey++));
      labelled.push(node.name);
    }
    let prePeered = 0;
    // Free now: the client is itself a reflector on its way out, or the target is not one yet.
    const freeKeys = new Map<string, boolean>();
    const isFree = (key: string): boolean => {
      let free = freeKeys.get(key);
      if (free === undefined) {
        const target = nodeNamed(state, reflectorKeys.get(key) ?? "");
        free = target === undefined || !isValidClusterId(target.routeReflectorClusterId);
        freeKeys.set(key, free);
      }
      return free;
    };
    for (const [i, missing] of missingAtStart) {
      const node = state.nodes[i];
      if (node === undefined) continue;
      if (isObservedReflector(node) || missing.every(isFree)) {
        builder.labelAll(node.name, peerPatchOf(missing));
        prePeered++;
        continue;
      }
      let added = false;
      for (const key of missing) {
        if (!isFree(key)) continue;
        builder.label(node.name, peerLabelOf(key), "true");
        added = true;
      }
      if (added) prePeered++;
    }
    accept(
      builder.build(
        "PrepareReflectors",
        joinClauses([
          labelled.length > 0
            ? `label ${count(labelled.length, "reflector")} (${listNames(labelled)})`
            : "",
          peerWrites > 0 ? `write ${count(peerWrites, "BGPPeer")}` : "",
          prePeered > 0
            ? `pre-peer ${count(prePeered, "node")} with reflectors not yet promoted`
            : "",
        ]),
        true,
      ),
    );
  }

  // 1b. A reflector on its way out that shares its cluster ID with another reflector (now or in
  // the design) shadows it: reflections carrying that ID are dropped at both, so new sessions can
  // hide routes behind it. Demote such reflectors first, wherever that alone loses nothing.
  {
    const held = new Map<string, number>();
    for (const node of reflectorish.length === 0 ? [] : state.nodes) {
      const id = node.routeReflectorClusterId;
      if (isValidClusterId(id)) held.set(id, (held.get(id) ?? 0) + 1);
    }
    const designedIds = new Set(desired.clusterIds.values());
    const shadowing = (reflectorish.length === 0 ? [] : reflectorishNow())
      .filter((node) => {
        const id = node.routeReflectorClusterId;
        return (
          !desired.clusterIds.has(node.name) &&
          isValidClusterId(id) &&
          (designedIds.has(id) || (held.get(id) ?? 0) > 1)
        );
      })
      .map((node) => [node.name]);
    takeInWaves(shadowing, demotionStep, false, untangleDemotions);
  }

  // 2. Add client peerings, one new reflector per client per step.
  {
    const pending = new Map<string, string[]>();
    for (const i of missingAtStart.keys()) {
      const node = state.nodes[i];
      if (node === undefined || isObservedReflector(node)) continue;
      const labels = node.labels;
      const missing = desiredKeysOf(i, node.name).filter(
        (key) => labels[peerLabelOf(key)] === undefined,
      );
      if (missing.length > 0) pending.set(node.name, missing);
    }
    const rounds = Math.max(0, ...[...pending.values()].map((keys) => keys.length));
    for (let round = 0; round < rounds; round++) {
      const builder = createStepBuilder();
      let clients = 0;
      for (const [name, keys] of pending) {
        const key = keys[round];
        if (key === undefined) continue;
        builder.label(name, peerLabel(key), "true");
        clients++;
      }
      const step = builder.build(
        "AddClientPeerings",
        `add client peerings (round ${round + 1} of ${rounds}): ${count(clients, "client")} get one more reflector`,
        true,
      );
      if (!accept(step)) break;
    }
  }

  // 3. Promote reflectors (or give them a new cluster ID) in waves. One whose promotion would lose
  // routes now (say its cluster ID is still held by a reflector on its way out) waits until after
  // the demotions.
  const deferred = takeInWaves(
    promotionWaves(
      state,
      desired.reflectors
        .filter((r) => nodeNamed(state, r.node)?.routeReflectorClusterId !== r.clusterId)
        .map((r) => r.node),
      cache,
    ),
    promotionStep,
    false,
  );

  // 4. Mesh off, once reflectors carry every route (the interlock checks exactly that); the
  // bootstrap goes right after the mesh write, unless clients still need it.
  if (!desired.meshEnabled && state.bgpConfiguration.nodeToNodeMeshEnabled) {
    if (!hasBootstrap() || !attempt(meshStep(state, false, true)).taken)
      accept(meshStep(state, false));
  }

  // 5. Remove old client peerings; a removal that touches a live reflector session counts. A
  // removal that would lose routes now (its reflector still has to leave the mesh's way, say
  // after the fail-safe turned the mesh back on) is retried after the demotions.
  const removePeerings = (final: boolean): boolean => {
    const reflectorByKey = new Map<string, NodeInfo>();
    for (const node of state.nodes) {
      const key = node.labels[REFLECTOR_LABEL];
      if (key !== undefined) reflectorByKey.set(key, node);
    }
    const costly = new Map<string, string[]>();
    const free = createStepBuilder();
    let freeClients = 0;
    for (const i of surplusAtStart) {
      const node = state.nodes[i];
      if (node === undefined) continue;
      const have = peerKeysOf(node.labels);
      const wanted = desiredKeysOf(i, node.name);
      const surplus = have.filter((key) => !wanted.includes(key));
      if (surplus.length === 0) continue;
      const live: string[] = [];
      for (const key of surplus) {
        const target = reflectorByKey.get(key);
        if (
          isClientNow(node) &&
          target !== undefined &&
          isValidClusterId(target.routeReflectorClusterId)
        ) {
          live.push(key);
        } else {
          free.label(node.name, peerLabel(key), null);
        }
      }
      if (live.length < surplus.length) freeClients++;
      if (live.length > 0) costly.set(node.name, live);
    }
    const rounds = Math.max(0, ...[...costly.values()].map((keys) => keys.length));
    for (let round = 0; round < Math.max(rounds, 1); round++) {
      const builder = round === 0 ? free : createStepBuilder();
      let clients = round === 0 ? freeClients : 0;
      for (const [name, keys] of costly) {
        const key = keys[round];
        if (key === undefined) continue;
        builder.label(name, peerLabel(key), null);
        clients++;
      }
      const step = builder.build(
        "RemoveClientPeerings",
        `remove old client peerings${rounds > 1 ? ` (round ${round + 1} of ${rounds})` : ""}: ${count(clients, "node")} drop a reflector`,
        false,
      );
      if (step === undefined) continue;
      if (final) {
        if (!accept(step)) return false;
      } else if (refusal !== undefined || !attempt(step).taken) {
        return false;
      }
    }
    return true;
  };
  const peeringsRemoved = removePeerings(false);

  // 6. Demote reflectors that go, in waves; then the promotions that had to wait.
  {
    const leaving = reflectorishNow()
      .filter((node) => isObservedReflector(node) && !desired.clusterIds.has(node.name))
      .map((node) => node.name);
    takeInWaves(
      groupIntoWaves(leaving, findSessionPartners(state, leaving, isClientNow, cache)),
      demotionStep,
      true,
      untangleDemotions,
    );
    takeInWaves(promotionWaves(state, deferred, cache), promotionStep, true);
    if (!peeringsRemoved) removePeerings(true);
  }

  // 7. Delete rrfleet BGPPeers nobody needs.
  {
    const wanted = new Set(desired.bgpPeers.map((p) => p.metadata.name));
    if (needsBootstrap()) wanted.add(BOOTSTRAP_PEER_NAME);
    const builder = createStepBuilder();
    const orphans = state.bgpPeers
      .filter((p) => isOwnedByRrfleet(p.labels) && !wanted.has(p.name))
      .map((p) => p.name)
      .sort(compareStrings);
    for (const name of orphans) builder.action({ verb: "delete", kind: "BGPPeer", name });
    accept(
      builder.build("DeleteOrphanPeers", `delete unused BGPPeers: ${listNames(orphans)}`, false),
    );
  }

  return refusal === undefined
    ? { steps, final: state, finalView: view }
    : { steps, final: state, finalView: view, refusal };
}

/**
 * Promotion waves. While the mesh is on it carries every client's routes, and a reflector
 * promoted alone would leave the mesh with nobody to reflect its own routes: promote them all
 * together. With the mesh off, waves keep each client to one changed reflector session per step.
 */
function promotionWaves(
  state: ClusterSnapshot,
  names: readonly string[],
  cache: AnalysisCache,
): string[][] {
  if (names.length === 0) return [];
  return state.bgpConfiguration.nodeToNodeMeshEnabled
    ? [[...names]]
    : groupIntoWaves(names, findSessionPartners(state, names, isClientNow, cache));
}

/**
 * `count` cluster IDs no node carries and the design does not use: the addresses right above the
 * highest one in use (deterministic, and never one a designed reflector could get later, since new
 * IDs avoid what nodes carry).
 */
function freshClusterIds(state: ClusterSnapshot, desired: DesiredState, count: number): string[] {
  const used = new Set<number>();
  for (const node of state.nodes) {
    const id = node.routeReflectorClusterId;
    if (isValidClusterId(id)) used.add(parseIpv4(id) ?? 0);
  }
  for (const id of desired.clusterIds.values()) used.add(parseIpv4(id) ?? 0);
  const fresh: string[] = [];
  let next = Math.max(0, ...used) + 1;
  while (fresh.length < count) {
    if (next > 0xfffffffe) next = 1; // wrapped: look from the bottom
    if (!used.has(next)) {
      used.add(next);
      fresh.push(formatIpv4(next));
    }
    next++;
  }
  return fresh;
}

/** The smallest reflector key above every key a node label or the design mentions. */
function spareReflectorKey(state: ClusterSnapshot, desired: DesiredState): number {
  let highest = 0;
  const see = (key: string | undefined) => {
    const value = Number(key);
    if (key !== undefined && Number.isSafeInteger(value) && value > highest) highest = value;
  };
  for (const node of state.nodes) {
    see(node.labels[REFLECTOR_LABEL]);
    for (const key of readPeerKeys(node.labels)) see(key);
  }
  for (const key of desired.reflectorKeys.values()) see(key);
  return highest + 1;
}

function fail(): never {
  throw new Error("planSteps: a promotion or demotion step without actions");
}

function isClientNow(node: NodeInfo): boolean {
  return !isObservedReflector(node);
}

function meshStep(state: ClusterSnapshot, enabled: boolean, deleteBootstrap = false): StepDraft {
  const config = state.bgpConfiguration;
  let action: Action;
  if (!config.exists) {
    action = {
      verb: "create",
      kind: "BGPConfiguration",
      object: {
        apiVersion: state.calicoApiVersion,
        kind: "BGPConfiguration",
        metadata: { name: "default" },
        spec: { nodeToNodeMeshEnabled: enabled },
      },
    };
  } else {
    const spec: Record<string, boolean | null> = { nodeToNodeMeshEnabled: enabled };
    if (!enabled)
      for (const field of MESH_ONLY_FIELDS)
        if (config.specFields.includes(field)) spec[field] = null;
    const patch: BgpConfigurationPatch = { spec };
    action = { verb: "patch", kind: "BGPConfiguration", name: "default", patch };
  }
  const reason: StepReason = enabled ? "EnableNodeMesh" : "DisableNodeMesh";
  return {
    description: enabled
      ? "turn the node-to-node mesh back on: no reflector can serve"
      : `turn the node-to-node mesh off: reflectors now carry every route${deleteBootstrap ? "; delete the bootstrap BGPPeer" : ""}`,
    reason,
    waitForSessions: enabled,
    actions: deleteBootstrap
      ? [action, { verb: "delete", kind: "BGPPeer", name: BOOTSTRAP_PEER_NAME }]
      : [action],
  };
}

/**
 * Greedy waves: an item joins the first wave none of whose items shares a session partner with
 * it, so no client sees two of its reflector sessions change in one step.
 */
function groupIntoWaves(
  items: readonly string[],
  partners: ReadonlyMap<string, ReadonlySet<string>>,
): string[][] {
  const waves: { items: string[]; touched: Set<string> }[] = [];
  for (const item of items) {
    const mine = partners.get(item) ?? new Set<string>();
    let wave = waves.find((w) => ![...mine].some((p) => w.touched.has(p)));
    if (wave === undefined) {
      wave = { items: [], touched: new Set() };
      waves.push(wave);
    }
    wave.items.push(item);
    for (const p of mine) wave.touched.add(p);
  }
  return waves.map((w) => w.items);
}

interface StepBuilder {
  label(node: string, key: string, value: string | null): void;
  /** Sets several labels from a record the builder may share between nodes (never mutates it). */
  labelAll(node: string, labels: Readonly<Record<string, string>>): void;
  annotate(node: string, clusterId: string | null): void;
  action(action: Action): void;
  build(reason: StepReason, description: string, waitForSessions: boolean): StepDraft | undefined;
}

/**
 * Collects a step's writes in a stable order: one merge patch per node for its labels and one for
 * its cluster ID, so that orderStep can order a role change apart from a session change.
 */
function createStepBuilder(): StepBuilder {
  type Labels = Readonly<Record<string, string | null>>;
  const labels = new Map<string, Labels>();
  const annotations = new Map<string, Record<string, string | null>>();
  /** Label records handed in by labelAll: copied before any change, never mutated. */
  const shared = new Set<Labels>();
  /** One patch object per shared record, so equal patches are one object. */
  const patches = new Map<Labels, NodePatch>();
  const others: Action[] = [];
  const order: string[] = []; // nodes in the order the step first touched them (deterministic)
  const touch = (node: string) => {
    if (!labels.has(node) && !annotations.has(node)) order.push(node);
  };
  const own = (node: string): Record<string, string | null> => {
    const record = labels.get(node);
    if (record !== undefined && !shared.has(record)) return record;
    touch(node);
    const copy = { ...record };
    labels.set(node, copy);
    return copy;
  };
  return {
    label(node, key, value) {
      own(node)[key] = value;
    },
    labelAll(node, record) {
      if (labels.has(node)) {
        Object.assign(own(node), record);
        return;
      }
      touch(node);
      shared.add(record);
      labels.set(node, record);
    },
    annotate(node, clusterId) {
      let record = annotations.get(node);
      if (record === undefined) {
        touch(node);
        annotations.set(node, (record = {}));
      }
      record[CLUSTER_ID_ANNOTATION] = clusterId;
    },
    action(action) {
      others.push(action);
    },
    build(reason, description, waitForSessions) {
      const actions: Action[] = [...others];
      for (const name of order) {
        const a = annotations.get(name);
        const l = labels.get(name);
        if (a !== undefined)
          actions.push({
            verb: "patch",
            kind: "Node",
            name,
            patch: { metadata: { annotations: a } },
          });
        if (l === undefined) continue;
        let patch = shared.has(l) ? patches.get(l) : undefined;
        if (patch === undefined) {
          patch = { metadata: { labels: l } };
          if (shared.has(l)) patches.set(l, patch);
        }
        actions.push({ verb: "patch", kind: "Node", name, patch });
      }
      if (actions.length === 0) return undefined;
      return { description, reason, waitForSessions, actions };
    },
  };
}

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

const NO_KEYS: readonly string[] = Object.freeze([]);

function sameLabels(
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>>,
): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function listNames(names: readonly string[]): string {
  return names.length <= 6
    ? names.join(", ")
    : `${names.slice(0, 5).join(", ")} and ${names.length - 5} more`;
}

function joinClauses(clauses: readonly string[]): string {
  const present = clauses.filter((c) => c !== "");
  return present.length === 0 ? "" : present.join("; ");
}
