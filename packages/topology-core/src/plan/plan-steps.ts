import {
  findLostRoutes,
  viewRoutes,
  type MissingRoutes,
  type RouteView,
} from "../analysis/reachability-report.js";
import type { Action, BgpConfigurationPatch, Step, StepReason } from "../model/actions.js";
import type { ClusterSnapshot, NodeInfo } from "../model/cluster.js";
import { isValidClusterId } from "../model/ipv4.js";
import {
  CLUSTER_ID_ANNOTATION,
  isOwnedByRrfleet,
  peerLabel,
  readPeerKeys,
  REFLECTOR_LABEL,
} from "../model/names.js";
import { compareStrings } from "../model/order.js";
import type { DesiredState } from "../render/render-desired.js";
import { createAnalysisCache, type AnalysisCache } from "../analysis/peerings.js";
import { applyActions } from "./apply-actions.js";
import { isObservedReflector } from "../topology/select-reflectors.js";
import { findSessionPartners } from "./find-session-partners.js";

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

/** Calico rejects these BGPConfiguration fields while the mesh is off (3.32). */
const MESH_ONLY_FIELDS = ["nodeMeshMaxRestartTime", "nodeMeshPassword"] as const;

/**
 * Orders the changes from `observed` to `desired` make-before-break:
 *
 *  0. mesh back on first, if no reflector can serve (fail-safe);
 *  1. prepare: create/repair rrfleet BGPPeers, label new reflectors (moving a leaving node off a
 *     designed key), pre-peer clients with reflectors not promoted yet (sessions to a plain node
 *     change no client's reflectors);
 *  1b. demote leaving reflectors that shadow a designed cluster ID, where that alone is safe;
 *  2. add the remaining client peerings, one new reflector per client per step;
 *  3. promote (annotate) reflectors: together while the mesh is on, in waves that touch each
 *     client once while it is off; a promotion that would lose routes now waits for step 6;
 *  4. mesh off, once reflectors carry every route;
 *  5. remove old client peerings, one per client per step (retried after step 6 if refused);
 *  6. demote reflectors that go, in waves; then the promotions and removals that waited;
 *  7. delete BGPPeers nobody uses.
 *
 * Every step is simulated and checked by the reachability analysis; a step that would lose a route
 * some pair of Ready nodes had before is refused and the plan stops there.
 */
export function planSteps(
  observed: ClusterSnapshot,
  desired: DesiredState,
  cache: AnalysisCache = createAnalysisCache(),
): StepPlan {
  const steps: Step[] = [];
  const indexOfNode = new Map(observed.nodes.map((node, i) => [node.name, i]));
  /** A node of the current state by name (states keep the observed node order). */
  const nodeNamed = (current: ClusterSnapshot, name: string): NodeInfo | undefined => {
    const i = indexOfNode.get(name);
    return i === undefined ? undefined : current.nodes[i];
  };
  let state = observed;
  let view = viewRoutes(observed, cache);
  let refusal: Refusal | undefined;

  /** Simulates and checks a step; takes it and returns true unless it would lose routes. */
  const attempt = (step: Step): { taken: true } | { taken: false; lost: MissingRoutes } => {
    const next = applyActions(state, step.actions, indexOfNode);
    const changed = new Set<number>();
    for (const action of step.actions) {
      if (action.kind === "Node") changed.add(indexOfNode.get(action.name) ?? -1);
    }
    const nextView = viewRoutes(next, cache, { view, changed });
    const lost = findLostRoutes(view, nextView);
    if (lost.pairs > 0) return { taken: false, lost };
    steps.push(step);
    state = next;
    view = nextView;
    return { taken: true };
  };
  /** Like {@link attempt}, but a refusal stops the plan. */
  const accept = (step: Step | undefined): boolean => {
    if (refusal !== undefined) return false;
    if (step === undefined) return true;
    const result = attempt(step);
    if (!result.taken)
      refusal = { reason: "WouldLoseRoutes", description: step.description, lost: result.lost };
    return result.taken;
  };
  const peerKeysOf = readPeerKeys;
  const desiredKeysOf = (name: string): readonly string[] => desired.peerKeys.get(name) ?? NO_KEYS;
  const reflectorKeys = new Map(desired.reflectors.map((r) => [r.key, r.node]));
  // Only nodes whose rrfleet labels or reflector annotation differ from the design take part in
  // the phases below; on a converged cluster that is none, and planning is a single scan.
  // Steps only ever add designed client labels and remove ones the cluster had that the design
  // drops, so what each node lacks and has too much is known from the observed state.
  const dirty: NodeInfo[] = [];
  const missingAtStart = new Map<string, string[]>();
  const surplusAtStart: NodeInfo[] = [];
  for (const node of observed.nodes) {
    const have = peerKeysOf(node.labels);
    const wanted = desiredKeysOf(node.name);
    if (matchesDesign(node, desired, have, wanted)) continue;
    dirty.push(node);
    if (sameKeys(have, wanted)) continue;
    const missing = wanted.filter((key) => !have.includes(key));
    if (missing.length > 0) missingAtStart.set(node.name, missing);
    if (have.some((key) => !wanted.includes(key))) surplusAtStart.push(node);
  }
  const current = (node: NodeInfo): NodeInfo => nodeNamed(state, node.name) ?? node;
  const promotionStep = (wave: readonly string[]): Step => {
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
  const demotionStep = (wave: readonly string[]): Step => {
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
   * refused members again after the others, for as long as that makes progress, then all together. Returns what could
   * not be taken; with `final`, the first of those is refused for good and stops the plan.
   */
  const takeInWaves = (
    waves: readonly string[][],
    stepFor: (wave: readonly string[]) => Step,
    final: boolean,
  ): string[] => {
    let pending = waves.filter((w) => w.length > 0);
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
      // Members that each need the other gone (a shared cluster ID) can only go together.
      if (!progress && pending.length > 1 && attempt(stepFor(pending.flat())).taken) pending = [];
      if (!progress) break;
    }
    if (final && pending[0] !== undefined) accept(stepFor(pending[0]));
    return pending.flat();
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
    for (const object of desired.bgpPeers) {
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
    let spareKey =
      1 +
      Math.max(
        0,
        ...state.nodes.map((n) => Number(n.labels[REFLECTOR_LABEL] ?? 0)).filter(Number.isFinite),
      );
    for (const node of dirty.map(current)) {
      const key = node.labels[REFLECTOR_LABEL];
      if (key === undefined || !designedKeys.has(key) || desired.reflectorKeys.has(node.name))
        continue;
      builder.label(node.name, REFLECTOR_LABEL, String(spareKey++));
      labelled.push(node.name);
    }
    let prePeered = 0;
    for (const [name, missing] of missingAtStart) {
      const node = nodeNamed(state, name);
      if (node === undefined) continue;
      const nodeIsReflector = isObservedReflector(node);
      let added = false;
      for (const key of missing) {
        const target = nodeNamed(state, reflectorKeys.get(key) ?? "");
        // Free now: the client is itself a reflector on its way out, or the target is not one yet.
        if (
          nodeIsReflector ||
          target === undefined ||
          !isValidClusterId(target.routeReflectorClusterId)
        ) {
          builder.label(node.name, peerLabel(key), "true");
          added = true;
        }
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
    for (const node of state.nodes) {
      const id = node.routeReflectorClusterId;
      if (isValidClusterId(id)) held.set(id, (held.get(id) ?? 0) + 1);
    }
    const designedIds = new Set(desired.clusterIds.values());
    const shadowing = dirty
      .map(current)
      .filter((node) => {
        const id = node.routeReflectorClusterId;
        return (
          !desired.clusterIds.has(node.name) &&
          isValidClusterId(id) &&
          (designedIds.has(id) || (held.get(id) ?? 0) > 1)
        );
      })
      .map((node) => [node.name]);
    takeInWaves(shadowing, demotionStep, false);
  }

  // 2. Add client peerings, one new reflector per client per step.
  {
    const pending = new Map<string, string[]>();
    for (const name of missingAtStart.keys()) {
      const node = nodeNamed(state, name);
      if (node === undefined || isObservedReflector(node)) continue;
      const labels = node.labels;
      const missing = desiredKeysOf(name).filter((key) => labels[peerLabel(key)] === undefined);
      if (missing.length > 0) pending.set(name, missing);
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

  // 4. Mesh off, once reflectors carry every route (the interlock checks exactly that).
  if (!desired.meshEnabled && state.bgpConfiguration.nodeToNodeMeshEnabled) {
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
    for (const node of surplusAtStart.map(current)) {
      const have = peerKeysOf(node.labels);
      const wanted = desiredKeysOf(node.name);
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
    const leaving = dirty
      .map(current)
      .filter((node) => isObservedReflector(node) && !desired.clusterIds.has(node.name))
      .map((node) => node.name);
    takeInWaves(
      groupIntoWaves(leaving, findSessionPartners(state, leaving, isClientNow, cache)),
      demotionStep,
      true,
    );
    takeInWaves(promotionWaves(state, deferred, cache), promotionStep, true);
    if (!peeringsRemoved) removePeerings(true);
  }

  // 7. Delete rrfleet BGPPeers nobody needs.
  {
    const wanted = new Set(desired.bgpPeers.map((p) => p.metadata.name));
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

function fail(): never {
  throw new Error("planSteps: a promotion or demotion step without actions");
}

function isClientNow(node: NodeInfo): boolean {
  return !isObservedReflector(node);
}

function meshStep(state: ClusterSnapshot, enabled: boolean): Step {
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
      : "turn the node-to-node mesh off: reflectors now carry every route",
    reason,
    waitForSessions: enabled,
    actions: [action],
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
  annotate(node: string, clusterId: string | null): void;
  action(action: Action): void;
  build(reason: StepReason, description: string, waitForSessions: boolean): Step | undefined;
}

/** Collects a step's writes, one merge patch per node, in a stable order. */
function createStepBuilder(): StepBuilder {
  const labels = new Map<string, Record<string, string | null>>();
  const annotations = new Map<string, Record<string, string | null>>();
  const others: Action[] = [];
  const order: string[] = []; // nodes in the order the step first touched them (deterministic)
  const entry = (map: Map<string, Record<string, string | null>>, node: string) => {
    let record = map.get(node);
    if (record === undefined) {
      if (!labels.has(node) && !annotations.has(node)) order.push(node);
      map.set(node, (record = {}));
    }
    return record;
  };
  return {
    label(node, key, value) {
      entry(labels, node)[key] = value;
    },
    annotate(node, clusterId) {
      entry(annotations, node)[CLUSTER_ID_ANNOTATION] = clusterId;
    },
    action(action) {
      others.push(action);
    },
    build(reason, description, waitForSessions) {
      const nodeActions: Action[] = order.map((name) => {
        const l = labels.get(name);
        const a = annotations.get(name);
        return {
          verb: "patch",
          kind: "Node",
          name,
          patch: {
            metadata: {
              ...(l === undefined ? {} : { labels: l }),
              ...(a === undefined ? {} : { annotations: a }),
            },
          },
        };
      });
      const actions = [...others, ...nodeActions];
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
