/**
 * Why a node is or is not a route reflector, which reflectors it peers with and why, and what
 * the plan does to it — read from the decisions the planner itself makes (designTopology's
 * selection and the assignment's trace of this node), never re-derived by other rules.
 */
import type { Action, Step, StepReason } from "../model/actions.js";
import type { ClusterSnapshot, NodeInfo } from "../model/cluster.js";
import type { Decision } from "../model/decisions.js";
import { isValidClusterId } from "../model/ipv4.js";
import {
  BOOTSTRAP_PEER_NAME,
  CLUSTER_ID_ANNOTATION,
  keyOfPeerLabel,
  readPeerKeys,
  REFLECTOR_LABEL,
  REFLECTOR_MESH_PEER_NAME,
  reflectorPeerName,
} from "../model/names.js";
import type { Policy, Topology } from "../policy/policy.js";
import { parseLabelSelector } from "../selectors/label-selector.js";
import type { CandidateTrace } from "../topology/assign-clients.js";
import { assessEligibility, type IneligibleReason } from "../topology/eligibility.js";
import { describeZone, zoneOf } from "../topology/select-reflectors.js";
import { designTopology } from "./design-topology.js";
import { planCluster, type Plan } from "./plan-cluster.js";

/** A reflector as an explanation names it. */
export interface ReflectorRef {
  readonly node: string;
  readonly key: string;
  readonly zone: string;
  readonly ready: boolean;
}

/** May the node be a reflector? assessEligibility's verdict, with the facts behind it. */
export type EligibilityExplanation =
  | {
      readonly eligible: true;
      /** Matched by preferNodeSelector: promoted before other eligible nodes of its zone. */
      readonly preferred: boolean;
      readonly message: string;
    }
  | {
      readonly eligible: false;
      readonly reason: IneligibleReason;
      readonly message: string;
      /** NotReady: the Ready condition's lastTransitionTime, and seconds since then at `now`. */
      readonly since?: string;
      readonly forSeconds?: number;
    };

/** Why the node is, becomes, stays or is not a reflector. */
export interface SelectionExplanation {
  /** `keep`/`promote`/`demote`: the planner's own decision; `none`: not a reflector, not chosen. */
  readonly kind: "keep" | "promote" | "demote" | "none";
  /**
   * The decision's reason, or for `none`: `Ineligible`, or `ZoneTargetMet` (its zone has its
   * share; it ranks below the nodes chosen).
   */
  readonly reason: string;
  readonly message: string;
  /** The cluster-wide size: min(clamp(ceil(eligible × ratio), min, max), eligible). */
  readonly sizing: {
    readonly eligible: number;
    readonly ratio: number;
    readonly min: number;
    readonly max: number;
    readonly wanted: number;
  };
  /** The node's zone: its share of `wanted`, and the reflectors designed there. */
  readonly zone: {
    readonly name: string;
    readonly target: number;
    readonly reflectors: readonly string[];
  };
  /** Eligible non-reflectors only: its place in the zone's promotion order (1 = first). */
  readonly rank?: { readonly position: number; readonly of: number };
}

/** Why a client peers with one reflector (or gave one up). */
export interface PeeringExplanation {
  readonly reflector: ReflectorRef;
  /**
   * `EveryReflector` (`single`), `OwnZoneReflectors` (`zoned`: all of its zone), `AlreadyPeered`
   * (kept: its label names it and it is still designed), `RendezvousChoice` (an open slot filled
   * by rendezvous hashing with bounded load), `Rebalanced` (moved here off a full reflector).
   */
  readonly reason:
    "EveryReflector" | "OwnZoneReflectors" | "AlreadyPeered" | "RendezvousChoice" | "Rebalanced";
  readonly message: string;
  /** `RendezvousChoice`: its rank by rendezvous weight among the open candidates (1 = highest). */
  readonly rank?: { readonly position: number; readonly of: number };
  /** `RendezvousChoice`: candidates ranked higher by weight, and why each was passed over. */
  readonly passedOver?: readonly {
    readonly reflector: ReflectorRef;
    readonly reason: "ReflectorDown" | "AtLoadBound" | "AbovePlacementBound" | "ZonePreference";
    readonly message: string;
  }[];
}

/** Something the assignment let go of for this client. */
export interface ReleaseExplanation {
  readonly reflectors: readonly ReflectorRef[];
  readonly reason: "ReflectorsDown" | "OverLoadBound";
  readonly message: string;
}

/** What one plan step does to the node. */
export interface StepChangeExplanation {
  /** 1-based position in the plan. */
  readonly step: number;
  readonly reason: StepReason;
  readonly description: string;
  /** Writes to this node, in words. */
  readonly changes: readonly string[];
  /** Other writes of the step that change this node's sessions (its BGPPeers, the mesh). */
  readonly related: readonly string[];
}

/** The answer of {@link explainNode}. */
export interface NodeExplanation {
  readonly node: string;
  readonly zone: string;
  readonly topology: Topology;
  /** What the cluster shows now. */
  readonly current: {
    readonly ready: boolean;
    /** Calico treats it as a reflector (valid cluster ID annotation). */
    readonly reflector: boolean;
    readonly clusterId?: string;
    readonly key?: string;
    /** Reflectors its client labels name (unknown keys show as `?<key>`). */
    readonly peersWith: readonly string[];
    readonly meshEnabled: boolean;
  };
  readonly eligibility: EligibilityExplanation;
  readonly selection: SelectionExplanation;
  /** In the designed topology. */
  readonly target:
    | {
        readonly role: "reflector";
        readonly key: string;
        readonly clusterId: string;
        readonly clients: number;
        /** The other reflectors it is meshed with. */
        readonly meshedWith: readonly string[];
      }
    | {
        readonly role: "client";
        readonly peers: readonly PeeringExplanation[];
        readonly released: readonly ReleaseExplanation[];
        /** No reflector serves more than this many clients; new choices stay below `placementLoad` when they can. */
        readonly maxLoad: number;
        readonly placementLoad: number;
      };
  /** The plan's first step, as it concerns this node; absent when the plan has no step. */
  readonly nextStep?: StepChangeExplanation;
  /** Later steps that write to this node. */
  readonly laterSteps: readonly StepChangeExplanation[];
  readonly planSteps: number;
}

/**
 * Explains one node of `snapshot` under `policy` at `now`: eligibility, selection, assignment
 * and the plan's steps, from the same design and plan `rrctl plan` prints. Returns undefined when
 * the snapshot has no node named `node`. Pure.
 */
export function explainNode(
  snapshot: ClusterSnapshot,
  policy: Policy,
  now: Date,
  node: string,
  plan: Plan = planCluster(snapshot, policy, now),
): NodeExplanation | undefined {
  const info = snapshot.nodes.find((n) => n.name === node);
  if (info === undefined) return undefined;
  const design = designTopology(snapshot, policy, now, { traceNode: node });
  const zone = zoneOf(info, policy.zoneLabel);

  const byKey = new Map<string, ReflectorRef>();
  for (const r of design.reflectors) {
    byKey.set(r.key, { node: r.node, key: r.key, zone: describeZone(r.zone), ready: r.ready });
  }
  // Keys the cluster shows now, for labels naming reflectors that are leaving.
  for (const n of snapshot.nodes) {
    const key = n.labels[REFLECTOR_LABEL];
    if (key !== undefined && !byKey.has(key)) {
      byKey.set(key, {
        node: n.name,
        key,
        zone: describeZone(zoneOf(n, policy.zoneLabel)),
        ready: n.ready,
      });
    }
  }
  const refOf = (key: string): ReflectorRef =>
    byKey.get(key) ?? { node: `?${key}`, key, zone: "?", ready: false };
  const nameOfKey = (key: string): string => refOf(key).node;

  const key = info.labels[REFLECTOR_LABEL];
  const current = {
    ready: info.ready,
    reflector: isValidClusterId(info.routeReflectorClusterId),
    ...(info.routeReflectorClusterId === undefined
      ? {}
      : { clusterId: info.routeReflectorClusterId }),
    ...(key === undefined ? {} : { key }),
    peersWith: readPeerKeys(info.labels).map(nameOfKey),
    meshEnabled: snapshot.bgpConfiguration.nodeToNodeMeshEnabled,
  };

  const eligibility = explainEligibility(info, policy, now);
  const selection = explainSelection(info, zone, eligibility, design, policy);

  const designed = design.reflectors.find((r) => r.node === node);
  let target: NodeExplanation["target"];
  if (designed !== undefined) {
    target = {
      role: "reflector",
      key: designed.key,
      clusterId: designed.clusterId,
      clients: design.assignment.loadByKey.get(designed.key) ?? 0,
      meshedWith: design.reflectors.filter((r) => r.node !== node).map((r) => r.node),
    };
  } else {
    const trace = design.assignment.trace;
    const peers: PeeringExplanation[] = [];
    const released: ReleaseExplanation[] = [];
    for (const event of trace?.events ?? []) {
      switch (event.kind) {
        case "fixed":
          for (const k of event.keys) {
            const reflector = refOf(k);
            peers.push(
              policy.topology === "single"
                ? {
                    reflector,
                    reason: "EveryReflector",
                    message: `topology single: every client peers with every reflector`,
                  }
                : {
                    reflector,
                    reason: "OwnZoneReflectors",
                    message: `topology zoned: every client peers with all reflectors of its own zone (${reflector.zone})`,
                  },
            );
          }
          break;
        case "kept":
          for (const k of event.keys) {
            peers.push({
              reflector: refOf(k),
              reason: "AlreadyPeered",
              message: `it already peers with ${nameOfKey(k)} (label rrfleet.io/peer-${k}) and ${nameOfKey(k)} is still a designed reflector: assignments are sticky`,
            });
          }
          break;
        case "released":
          removePeers(peers, event.keys);
          released.push({
            reflectors: event.keys.map(refOf),
            reason: event.reason,
            message:
              event.reason === "ReflectorsDown"
                ? `every reflector it had is down (NotReady within grace): it takes Ready ones now`
                : `${event.keys.map(nameOfKey).join(", ")} had more clients than the load bound (${trace?.maxLoad ?? 0}) and this client ranks it lowest`,
          });
          break;
        case "chosen": {
          const choice = explainChoice(
            event.keys,
            event.candidates,
            refOf,
            trace?.maxLoad ?? 0,
            trace?.placementLoad ?? 0,
            policy.topology,
          );
          // `zoned` takes a remote zone's reflectors together: one entry per reflector.
          for (const k of event.keys) peers.push({ ...choice, reflector: refOf(k) });
          break;
        }
        case "moved":
          removePeers(peers, event.from);
          for (const k of event.to) {
            peers.push({
              reflector: refOf(k),
              reason: "Rebalanced",
              message: `moved here off ${event.from.map(nameOfKey).join(", ")}, which was above the load bound (${trace?.maxLoad ?? 0})`,
            });
          }
          break;
      }
    }
    target = {
      role: "client",
      peers,
      released,
      maxLoad: trace?.maxLoad ?? design.assignment.maxLoad,
      placementLoad: trace?.placementLoad ?? design.assignment.maxLoad,
    };
  }

  // BGPPeers that concern the node: those of every key it carries now or will (as a client, or
  // its own as a reflector), the reflector mesh if it is or will be a reflector.
  const keys = {
    own: designed?.key ?? key,
    peers: new Set([
      ...readPeerKeys(info.labels),
      ...(target.role === "client" ? target.peers.map((p) => p.reflector.key) : []),
    ]),
  };
  const steps = plan.steps.map((step, i) => explainStep(step, i + 1, info, keys, nameOfKey));
  const [first, ...rest] = steps;
  return {
    node,
    zone: describeZone(zone),
    topology: policy.topology,
    current,
    eligibility,
    selection,
    target,
    ...(first === undefined ? {} : { nextStep: first }),
    laterSteps: rest.filter((s) => s.changes.length > 0),
    planSteps: plan.steps.length,
  };
}

function explainEligibility(info: NodeInfo, policy: Policy, now: Date): EligibilityExplanation {
  const exclude =
    policy.excludeNodeSelector === undefined
      ? undefined
      : parseLabelSelector(policy.excludeNodeSelector);
  const prefer =
    policy.preferNodeSelector === undefined
      ? undefined
      : parseLabelSelector(policy.preferNodeSelector);
  const verdict = assessEligibility(info, exclude, prefer);
  if (verdict.eligible) {
    return {
      eligible: true,
      preferred: verdict.preferred,
      message: verdict.preferred
        ? `eligible and preferred: matches preferNodeSelector "${policy.preferNodeSelector ?? ""}"`
        : `eligible: Ready, schedulable, no lifecycle taint${policy.excludeNodeSelector === undefined ? "" : `, not matched by excludeNodeSelector "${policy.excludeNodeSelector}"`}`,
    };
  }
  const since = verdict.reason === "NotReady" ? info.readyTransitionTime : undefined;
  const at = since === undefined ? NaN : Date.parse(since);
  const forSeconds = Number.isNaN(at)
    ? undefined
    : Math.max(0, Math.floor((now.getTime() - at) / 1000));
  return {
    eligible: false,
    reason: verdict.reason,
    message:
      since === undefined
        ? verdict.message
        : `${verdict.message} since ${since}${forSeconds === undefined ? "" : ` (${forSeconds}s; a reflector is replaced after notReadyGraceSeconds ${policy.notReadyGraceSeconds})`}`,
    ...(since === undefined ? {} : { since }),
    ...(forSeconds === undefined ? {} : { forSeconds }),
  };
}

function explainSelection(
  info: NodeInfo,
  zone: string,
  eligibility: EligibilityExplanation,
  design: ReturnType<typeof designTopology>,
  policy: Policy,
): SelectionExplanation {
  const { selection } = design;
  const sizing = {
    eligible: selection.eligibleCount,
    ratio: policy.ratio,
    min: policy.min,
    max: policy.max,
    wanted: selection.wanted,
  };
  const target = selection.zoneTargets.get(zone) ?? 0;
  const zoneReflectors = design.reflectors.filter((r) => r.zone === zone).map((r) => r.node);
  const zoneView = { name: describeZone(zone), target, reflectors: zoneReflectors };
  const decision = selection.decisions.find(
    (d): d is Exclude<Decision, { kind: "mesh" | "size" }> =>
      d.kind !== "mesh" && d.kind !== "size" && d.node === info.name,
  );
  if (decision !== undefined) {
    return {
      kind: decision.kind,
      reason: decision.reason,
      message: decision.message,
      sizing,
      zone: zoneView,
    };
  }
  if (!eligibility.eligible) {
    return {
      kind: "none",
      reason: "Ineligible",
      message: `not a reflector and may not become one (${eligibility.reason}, see eligibility)`,
      sizing,
      zone: zoneView,
    };
  }
  const candidates = selection.candidatesByZone.get(zone) ?? [];
  const position = candidates.findIndex((n) => n.name === info.name) + 1;
  const held = zoneReflectors.length === 0 ? "none" : zoneReflectors.join(", ");
  return {
    kind: "none",
    reason: "ZoneTargetMet",
    message:
      `zone ${describeZone(zone)} gets ${target} of the ${selection.wanted} reflectors the cluster wants (held by ${held}); ` +
      `this node ranks ${position} of ${candidates.length} eligible nodes there (preferred first, then the oldest, then by name)`,
    sizing,
    zone: zoneView,
    ...(position > 0 ? { rank: { position, of: candidates.length } } : {}),
  };
}

/**
 * The assignment's choice of `keys` for one open slot, from the candidates as it weighed them:
 * up before down, then load level, then zone tier, then rendezvous weight (assignClients' order).
 */
function explainChoice(
  keys: readonly string[],
  candidates: readonly CandidateTrace[],
  refOf: (key: string) => ReflectorRef,
  maxLoad: number,
  placementLoad: number,
  topology: Topology,
): PeeringExplanation {
  const open = candidates.filter((c) => !c.held);
  const chosen = open.find((c) => c.keys.join(",") === keys.join(","));
  const byWeight = [...open].sort((a, b) => b.weight - a.weight);
  const position = chosen === undefined ? 0 : byWeight.indexOf(chosen) + 1;
  const first = keys[0] ?? "";
  const reflector = refOf(first);
  const passedOver = (chosen === undefined ? [] : byWeight.slice(0, position - 1)).map((c) => {
    const ref = refOf(c.keys[0] ?? "");
    if (!c.up && chosen?.up === true) {
      return {
        reflector: ref,
        reason: "ReflectorDown" as const,
        message: `${ref.node} is down (NotReady)`,
      };
    }
    if (c.level > (chosen?.level ?? 0)) {
      return c.level === 2
        ? {
            reflector: ref,
            reason: "AtLoadBound" as const,
            message: `${ref.node} had ${c.load} clients, at the load bound ${maxLoad}`,
          }
        : {
            reflector: ref,
            reason: "AbovePlacementBound" as const,
            message: `${ref.node} had ${c.load} clients; new choices go below ${placementLoad} while another reflector has room`,
          };
    }
    return {
      reflector: ref,
      reason: "ZonePreference" as const,
      message: `${ref.node} is in ${describeTier(c.tier, topology)}; ${reflector.node} is in ${describeTier(chosen?.tier ?? 0, topology)}, which comes first`,
    };
  });
  return {
    reflector,
    reason: "RendezvousChoice",
    message:
      `chosen by rendezvous hashing with bounded load: rank ${position} of ${open.length} by weight` +
      (chosen === undefined
        ? ""
        : `, ${describeTier(chosen.tier, topology)}, ${chosen.load} client${chosen.load === 1 ? "" : "s"} then (bound ${maxLoad})`),
    ...(position > 0 ? { rank: { position, of: open.length } } : {}),
    ...(passedOver.length > 0 ? { passedOver } : {}),
  };
}

function describeTier(tier: number, topology: Topology): string {
  switch (tier) {
    case 0:
      return topology === "multi" ? "its own zone" : `any zone (${topology}: no zone preference)`;
    case 1:
      return "a zone it has no reflector in yet";
    case 2:
      return "a zone it already has a reflector in";
    case 3:
      return "another zone, while its own zone has a reflector for it";
    default:
      return "a reflector that is down";
  }
}

function removePeers(peers: PeeringExplanation[], keys: readonly string[]): void {
  for (let i = peers.length - 1; i >= 0; i--) {
    if (keys.includes(peers[i]?.reflector.key ?? "")) peers.splice(i, 1);
  }
}

function explainStep(
  step: Step,
  index: number,
  info: NodeInfo,
  keys: { readonly own: string | undefined; readonly peers: ReadonlySet<string> },
  nameOfKey: (key: string) => string,
): StepChangeExplanation {
  const changes: string[] = [];
  const related: string[] = [];
  for (const action of step.actions) {
    if (action.kind === "Node" && action.name === info.name) {
      changes.push(...describeNodePatch(action, nameOfKey));
      continue;
    }
    const described = describeRelated(action, keys.peers, keys.own);
    if (described !== undefined) related.push(described);
  }
  return { step: index, reason: step.reason, description: step.description, changes, related };
}

function describeNodePatch(
  action: Extract<Action, { kind: "Node" }>,
  nameOfKey: (key: string) => string,
): string[] {
  const out: string[] = [];
  const annotations = action.patch.metadata.annotations ?? {};
  const labels = action.patch.metadata.labels ?? {};
  if (Object.hasOwn(annotations, CLUSTER_ID_ANNOTATION)) {
    const value = annotations[CLUSTER_ID_ANNOTATION];
    out.push(
      value === null || value === undefined
        ? `removes ${CLUSTER_ID_ANNOTATION}: Calico no longer treats it as a route reflector`
        : `sets ${CLUSTER_ID_ANNOTATION}=${value}: Calico makes it a route reflector`,
    );
  }
  for (const [label, value] of Object.entries(labels)) {
    if (label === REFLECTOR_LABEL) {
      out.push(
        value === null
          ? `removes label ${REFLECTOR_LABEL}`
          : `sets label ${REFLECTOR_LABEL}=${value} (its reflector key: its clients' BGPPeer selects it)`,
      );
      continue;
    }
    const k = keyOfPeerLabel(label);
    if (k !== undefined) {
      out.push(
        value === null
          ? `removes label ${label}: stops peering with ${nameOfKey(k)}`
          : `adds label ${label}: starts peering with ${nameOfKey(k)}`,
      );
      continue;
    }
    out.push(value === null ? `removes label ${label}` : `sets label ${label}=${value}`);
  }
  return out;
}

function describeRelated(
  action: Action,
  ownKeys: ReadonlySet<string>,
  ownKey: string | undefined,
): string | undefined {
  if (action.kind === "BGPConfiguration") {
    const verb = action.verb === "create" ? "creates" : "patches";
    return `${verb} BGPConfiguration default (the node-to-node mesh, for every node)`;
  }
  if (action.kind !== "BGPPeer") return undefined;
  const name = action.verb === "delete" ? action.name : action.object.metadata.name;
  const verb =
    action.verb === "delete" ? "deletes" : action.verb === "create" ? "creates" : "updates";
  if (name === BOOTSTRAP_PEER_NAME) return `${verb} BGPPeer ${name} (every node × every reflector)`;
  if (name === REFLECTOR_MESH_PEER_NAME && ownKey !== undefined) {
    return `${verb} BGPPeer ${name} (meshes the reflectors)`;
  }
  for (const k of ownKeys) {
    if (name === reflectorPeerName(k))
      return `${verb} BGPPeer ${name} (its sessions with reflector key ${k})`;
  }
  if (ownKey !== undefined && name === reflectorPeerName(ownKey)) {
    return `${verb} BGPPeer ${name} (its own clients' sessions)`;
  }
  return undefined;
}
