import type { NodeInfo } from "../model/cluster.js";
import type { Decision } from "../model/decisions.js";
import { isValidClusterId } from "../model/ipv4.js";
import { REFLECTOR_LABEL } from "../model/names.js";
import { compareStrings, pushTo } from "../model/order.js";
import type { LabelSelector } from "../selectors/label-selector.js";
import { assessEligibility } from "./eligibility.js";
import { sizeReflectors, type SizingPolicy } from "./size-reflectors.js";
import { spreadOverZones } from "./spread-over-zones.js";

/** Policy inputs of {@link selectReflectors}, with selectors already compiled. */
export interface SelectionPolicy extends SizingPolicy {
  readonly zoneLabel: string;
  readonly notReadyGraceSeconds: number;
  readonly exclude: LabelSelector | undefined;
  readonly prefer: LabelSelector | undefined;
}

/** A node chosen to be a reflector. */
export interface ChosenReflector {
  readonly node: NodeInfo;
  readonly zone: string;
}

/** Result of {@link selectReflectors}. */
export interface ReflectorSelection {
  /** Chosen reflectors, sorted by node name. */
  readonly reflectors: readonly ChosenReflector[];
  readonly decisions: readonly Decision[];
  /** Eligible nodes, plus reflectors held during their NotReady grace (the sizing base). */
  readonly eligibleCount: number;
  /** The cluster-wide reflector count the sizing rule asked for. */
  readonly wanted: number;
  /** Zone → its share of `wanted` (spreadOverZones). */
  readonly zoneTargets: ReadonlyMap<string, number>;
  /**
   * Zone → its eligible nodes that were not reflectors, in promotion order (preferred first,
   * then the oldest, then by name): the first `target − kept` were promoted.
   */
  readonly candidatesByZone: ReadonlyMap<string, readonly NodeInfo[]>;
  /**
   * When the first NotReady reflector held within its grace period stops being held (ISO 8601):
   * the selection changes by itself then, so a controller must plan again at that instant.
   */
  readonly graceEndsAt?: string;
}

/** Whether the cluster shows `node` as a reflector (or a reflector being set up). */
export function isObservedReflector(node: NodeInfo): boolean {
  return (
    isValidClusterId(node.routeReflectorClusterId) || node.labels[REFLECTOR_LABEL] !== undefined
  );
}

/** The zone of a node under `zoneLabel`; nodes without the label share the zone "". */
export function zoneOf(node: NodeInfo, zoneLabel: string): string {
  return node.labels[zoneLabel] ?? "";
}

type Standing =
  | { readonly keep: true; readonly graced: boolean }
  | { readonly keep: false; readonly decision: Decision };

/**
 * Chooses the reflectors: sizes the cluster, spreads the count over zones, keeps current
 * reflectors while they may serve (a NotReady one until `notReadyGraceSeconds` have passed since
 * its Ready condition changed, measured against `now`), demotes the youngest on scale-down, and
 * fills gaps with eligible nodes (preferred nodes first, then the oldest, then by name).
 */
export function selectReflectors(
  nodes: readonly NodeInfo[],
  policy: SelectionPolicy,
  now: Date,
): ReflectorSelection {
  const decisions: Decision[] = [];
  const standing = new Map<string, Standing>();
  const preferred = new Set<string>();
  const eligibleByZone = new Map<string, NodeInfo[]>();
  const keepableByZone = new Map<string, NodeInfo[]>();
  let eligibleCount = 0;
  let graceEndsAt: number | undefined;

  for (const node of nodes) {
    const zone = zoneOf(node, policy.zoneLabel);
    const eligibility = assessEligibility(node, policy.exclude, policy.prefer);
    const isReflector = isObservedReflector(node);
    if (eligibility.eligible) {
      eligibleCount++;
      if (eligibility.preferred) preferred.add(node.name);
      if (isReflector) {
        standing.set(node.name, { keep: true, graced: false });
        pushTo(keepableByZone, zone, node);
      } else {
        pushTo(eligibleByZone, zone, node);
      }
      continue;
    }
    if (!isReflector) continue;
    if (eligibility.reason === "NotReady" && isWithinGrace(node, policy, now)) {
      // Held during grace: it keeps its slot, so a short blip changes nothing (hysteresis).
      eligibleCount++;
      standing.set(node.name, { keep: true, graced: true });
      const ends = Date.parse(node.readyTransitionTime ?? "") + policy.notReadyGraceSeconds * 1000;
      if (graceEndsAt === undefined || ends < graceEndsAt) graceEndsAt = ends;
      pushTo(keepableByZone, zone, node);
      continue;
    }
    const reason = eligibility.reason === "NotReady" ? "NotReadyPastGrace" : eligibility.reason;
    standing.set(node.name, {
      keep: false,
      decision: { kind: "demote", node: node.name, reason, message: eligibility.message },
    });
  }

  // A reflector held during grace counts toward the size only while it keeps its slot; if the
  // spread leaves it out, size again without it, so that planning the result changes nothing.
  let uncounted = new Set<string>();
  let outcome = chooseReflectors(eligibleCount);
  for (;;) {
    const dropped = outcome.droppedGraced.filter((name) => !uncounted.has(name));
    if (dropped.length === 0) break;
    uncounted = new Set([...uncounted, ...dropped]);
    outcome = chooseReflectors(eligibleCount - uncounted.size);
  }
  const { reflectors, wanted, targets } = outcome;
  decisions.push(...outcome.decisions);
  eligibleCount -= uncounted.size;

  function chooseReflectors(sizingBase: number) {
    const chosen: ChosenReflector[] = [];
    const made: Decision[] = [];
    const droppedGraced: string[] = [];
    const wanted = sizeReflectors(sizingBase, policy);
    const zones = [...new Set([...eligibleByZone.keys(), ...keepableByZone.keys()])].sort();
    const targets = spreadOverZones(
      wanted,
      zones.map((zone) => {
        const current = keepableByZone.get(zone)?.length ?? 0;
        return { zone, current, capacity: current + (eligibleByZone.get(zone)?.length ?? 0) };
      }),
    );
    const keepableTotal = [...keepableByZone.values()].reduce((n, list) => n + list.length, 0);

    for (const zone of zones) {
      const target = targets.get(zone) ?? 0;
      // Reflectors held during grace that lost their slot in an earlier round sort last and go.
      const keepable = [...(keepableByZone.get(zone) ?? [])].sort(
        (a, b) =>
          Number(uncounted.has(a.name)) - Number(uncounted.has(b.name)) ||
          compareForKeeping(a, b, standing),
      );
      let kept = 0;
      keepable.forEach((node, index) => {
        if (index < target && !uncounted.has(node.name)) {
          kept++;
          const graced = standing.get(node.name);
          const withinGrace = graced?.keep === true && graced.graced;
          chosen.push({ node, zone });
          made.push({
            kind: "keep",
            node: node.name,
            reason: withinGrace ? "WithinNotReadyGrace" : "ReflectorHealthy",
            message: withinGrace
              ? `${node.name} is NotReady but within the ${policy.notReadyGraceSeconds}s grace period`
              : `${node.name} stays a reflector in zone ${describeZone(zone)}`,
          });
          return;
        }
        if (graced(standing, node)) droppedGraced.push(node.name);
        const reason = keepableTotal > wanted ? "ScaleDown" : "ZoneRebalance";
        made.push({
          kind: "demote",
          node: node.name,
          reason,
          message:
            reason === "ScaleDown"
              ? `${node.name} is the youngest surplus reflector (${wanted} wanted)`
              : `${node.name} leaves zone ${describeZone(zone)} so reflectors spread evenly over zones`,
        });
      });
      const candidates = (eligibleByZone.get(zone) ?? []).sort((a, b) =>
        compareForPromotion(a, b, preferred),
      );
      for (let i = 0; i < target - kept; i++) {
        const node = candidates[i];
        if (node === undefined) break;
        chosen.push({ node, zone });
        made.push({
          kind: "promote",
          node: node.name,
          reason: "ZoneBelowTarget",
          message: `zone ${describeZone(zone)} needs ${target} reflector${target === 1 ? "" : "s"}; ${node.name} is ${preferred.has(node.name) ? "a preferred" : "the oldest eligible"} node`,
        });
      }
    }
    return { reflectors: chosen, decisions: made, droppedGraced, wanted, targets };
  }

  for (const entry of standing.values()) {
    if (!entry.keep) decisions.push(entry.decision);
  }

  reflectors.sort((a, b) => compareStrings(a.node.name, b.node.name));
  decisions.sort((a, b) => compareStrings(nodeOfDecision(a), nodeOfDecision(b)));
  return {
    reflectors,
    decisions,
    eligibleCount,
    wanted,
    zoneTargets: targets,
    // Sorted in place by the last round above.
    candidatesByZone: eligibleByZone,
    ...(graceEndsAt === undefined ? {} : { graceEndsAt: new Date(graceEndsAt).toISOString() }),
  };
}

function isWithinGrace(node: NodeInfo, policy: SelectionPolicy, now: Date): boolean {
  if (node.readyTransitionTime === undefined) return false;
  const since = Date.parse(node.readyTransitionTime);
  if (Number.isNaN(since)) return false;
  return now.getTime() - since < policy.notReadyGraceSeconds * 1000;
}

function compareForKeeping(
  a: NodeInfo,
  b: NodeInfo,
  standing: ReadonlyMap<string, Standing>,
): number {
  const ga = graced(standing, a) ? 1 : 0;
  const gb = graced(standing, b) ? 1 : 0;
  if (ga !== gb) return ga - gb; // healthy reflectors are kept before graced ones
  return compareByAge(a, b); // the youngest goes first on scale-down
}

function compareForPromotion(a: NodeInfo, b: NodeInfo, preferred: ReadonlySet<string>): number {
  const pa = preferred.has(a.name) ? 0 : 1;
  const pb = preferred.has(b.name) ? 0 : 1;
  if (pa !== pb) return pa - pb;
  return compareByAge(a, b);
}

/** Older nodes first; nodes without a creation time after those with one; then by name. */
function compareByAge(a: NodeInfo, b: NodeInfo): number {
  const ta = timeOf(a.creationTimestamp);
  const tb = timeOf(b.creationTimestamp);
  if (ta !== tb) return ta - tb;
  return compareStrings(a.name, b.name);
}

function timeOf(iso: string | undefined): number {
  if (iso === undefined) return Number.MAX_SAFE_INTEGER;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? Number.MAX_SAFE_INTEGER : t;
}

function graced(standing: ReadonlyMap<string, Standing>, node: NodeInfo): boolean {
  const entry = standing.get(node.name);
  return entry?.keep === true && entry.graced;
}

function nodeOfDecision(decision: Decision): string {
  return decision.kind === "mesh" || decision.kind === "size" ? "" : decision.node;
}

/** How a zone is shown to people; nodes without the zone label share the zone "". */
export function describeZone(zone: string): string {
  return zone === "" ? "(none)" : zone;
}
