import { hashString, pairWeight } from "../model/hash.js";
import { createLazyMap } from "../model/lazy-map.js";
import { compareStrings } from "../model/order.js";
import type { Topology } from "../policy/policy.js";
import type { ReflectorIdentity } from "./allocate-identities.js";

/** A client as {@link assignClients} sees it. */
export interface ClientInput {
  readonly name: string;
  readonly zone: string;
  /** Reflector keys the client peers with now (from its labels). */
  readonly currentKeys: readonly string[];
}

/** Policy inputs of {@link assignClients}. */
export interface AssignmentPolicy {
  readonly topology: Topology;
  readonly reflectorsPerNode: number;
  readonly maxLoadFactor: number;
}

/** Options of {@link assignClients}. */
export interface AssignmentOptions {
  /** Record every choice made for the client at this index in `clients` (see `trace`). */
  readonly traceClient?: number;
}

/** A candidate as the assignment weighed it when it chose for the traced client. */
export interface CandidateTrace {
  /** Its reflectors' keys: one (`multi`), or a whole zone's (`zoned`). */
  readonly keys: readonly string[];
  readonly zone: string;
  /** At least one of its reflectors is Ready. */
  readonly up: boolean;
  /** Clients on its most loaded reflector at that moment. */
  readonly load: number;
  /** `load` against the bounds: 0 below the placement bound, 1 below the hard bound, 2 full. */
  readonly level: 0 | 1 | 2;
  /** The client already held it (not a candidate then). */
  readonly held: boolean;
  /**
   * Preference tier, lower first: 0 the client's own zone (or any, outside `multi`), 1 a zone
   * it has no reflector in yet, 2 a zone it already uses, 3 another zone while its own has a
   * reflector it has not taken, 9 a reflector that is down.
   */
  readonly tier: number;
  /** Rendezvous weight of (client, candidate): higher wins within a tier and load level. */
  readonly weight: number;
}

/** What the assignment did for the traced client, in order (see AssignmentOptions). */
export type AssignmentEvent =
  /** `single` (every reflector) or `zoned` (every reflector of its zone): not a choice. */
  | { readonly kind: "fixed"; readonly keys: readonly string[] }
  /** Its current labels name these, still designed: kept (sticky). */
  | { readonly kind: "kept"; readonly keys: readonly string[] }
  /** Given up: every reflector it had is down (`ReflectorsDown`), or above the bound (`OverLoadBound`). */
  | {
      readonly kind: "released";
      readonly keys: readonly string[];
      readonly reason: "ReflectorsDown" | "OverLoadBound";
    }
  /** An open slot filled by rendezvous hashing with bounded load. */
  | {
      readonly kind: "chosen";
      readonly keys: readonly string[];
      readonly candidates: readonly CandidateTrace[];
    }
  /** Moved off a reflector above the bound, to one with room. */
  | {
      readonly kind: "moved";
      readonly from: readonly string[];
      readonly to: readonly string[];
    };

/** The traced client's assignment: its events and the bounds they were weighed against. */
export interface AssignmentTrace {
  readonly events: readonly AssignmentEvent[];
  /** No reflector above this many clients (ceil(maxLoadFactor × mean)). */
  readonly maxLoad: number;
  /** New choices go only where load is below this, when they can (see assignClients). */
  readonly placementLoad: number;
}

/** Result of {@link assignClients}. */
export interface ClientAssignment {
  /** Client name → reflector keys, sorted numerically. Clients without reflectors are absent. */
  readonly keysByClient: ReadonlyMap<string, readonly string[]>;
  /**
   * The same keys by the client's index in the input (undefined for clients without reflectors).
   * Clients with the same reflectors share one array.
   */
  readonly keysOfClient: readonly (readonly string[] | undefined)[];
  /** Reflector key → number of clients it serves. */
  readonly loadByKey: ReadonlyMap<string, number>;
  /** No reflector serves more than this many clients (bounded load), where the layout allows. */
  readonly maxLoad: number;
  /** Set when `options.traceClient` named a client. */
  readonly trace?: AssignmentTrace;
}

/** Reflectors a client takes or leaves together: one reflector (`multi`) or one zone's (`zoned`). */
interface Group {
  readonly zone: string;
  readonly members: readonly number[];
  readonly hash: number;
  readonly up: boolean;
}

/**
 * Assigns clients to reflectors.
 *
 * - `single`: every client peers every reflector.
 * - `zoned`: every reflector of its own zone, plus every reflector of one remote zone (two remote
 *   zones when its own has none). Reflectors of a zone share a cluster ID and drop each other's
 *   reflections, so a client must peer all of a zone's reflectors or none.
 * - `multi`: `reflectorsPerNode` reflectors: the first in its own zone, the next in zones not yet
 *   used, where their load allows.
 *
 * Choices use rendezvous hashing with bounded load and are sticky: a client keeps its current
 * choices while they are still designed and their reflectors are not above
 * ceil(maxLoadFactor × mean). So adding or removing a client moves nobody else, and losing a
 * reflector moves only its clients. New choices are placed under a slightly tighter bound (the
 * mean computed with one client fewer), so a later removal never pushes a reflector over the bound.
 * A client is never parked on a reflector that is down while one that is up can take it, even
 * above the bound: routes come before balance.
 *
 * `reflectors` must be sorted by key (as allocateIdentities returns them). Runs in
 * O(clients × groups) with flat arrays: it is on the planner's hot path.
 */
export function assignClients(
  clients: readonly ClientInput[],
  reflectors: readonly ReflectorIdentity[],
  policy: AssignmentPolicy,
  options: AssignmentOptions = {},
): ClientAssignment {
  const count = reflectors.length;
  if (count === 0)
    return { keysByClient: new Map(), keysOfClient: [], loadByKey: new Map(), maxLoad: 0 };
  const groups = buildGroups(reflectors, policy.topology);
  const groupOfKey = new Map<string, number>();
  groups.forEach((g, gi) => {
    for (const m of g.members) groupOfKey.set(reflectors[m]?.key ?? "", gi);
  });
  const reflectorsInZone = new Map<string, number[]>();
  reflectors.forEach((r, i) => {
    const list = reflectorsInZone.get(r.zone);
    if (list === undefined) reflectorsInZone.set(r.zone, [i]);
    else list.push(i);
  });

  // Per zone: the fixed reflectors, the candidate groups and the number of free choices.
  interface ZonePlan {
    readonly fixed: readonly number[];
    readonly candidates: readonly number[];
    readonly free: number;
    readonly hasOwn: boolean;
    /** isCandidate[group] = 1 when the group is one of `candidates`. */
    readonly isCandidate: Uint8Array;
  }
  const zonePlans = new Map<string, ZonePlan>();
  const planFor = (zone: string): ZonePlan => {
    const known = zonePlans.get(zone);
    if (known !== undefined) return known;
    let plan: Omit<ZonePlan, "isCandidate">;
    const own = reflectorsInZone.get(zone) ?? [];
    const all = groups.map((_, gi) => gi);
    switch (policy.topology) {
      case "single":
        plan = {
          fixed: reflectors.map((_, i) => i),
          candidates: [],
          free: 0,
          hasOwn: own.length > 0,
        };
        break;
      case "zoned": {
        const remote = all.filter((gi) => groups[gi]?.zone !== zone);
        plan = {
          fixed: own,
          candidates: remote,
          free: Math.min(own.length > 0 ? 1 : 2, remote.length),
          hasOwn: own.length > 0,
        };
        break;
      }
      case "multi":
        plan = {
          fixed: [],
          candidates: all,
          free: Math.min(policy.reflectorsPerNode, count),
          hasOwn: own.length > 0,
        };
        break;
    }
    const isCandidate = new Uint8Array(groups.length);
    for (const gi of plan.candidates) isCandidate[gi] = 1;
    const complete = { ...plan, isCandidate };
    zonePlans.set(zone, complete);
    return complete;
  };

  const n = clients.length;
  const plans = clients.map((c) => planFor(c.zone));
  const hashes = new Uint32Array(n);
  const maxFree = Math.max(0, ...[...zonePlans.values()].map((p) => p.free));
  const chosen = new Int32Array(n * Math.max(maxFree, 1));
  const chosenCount = new Uint8Array(n);
  const load = new Int32Array(count);
  const largestGroup = Math.max(1, ...groups.map((g) => g.members.length));

  let totalSlots = 0;
  let maxSlotsPerClient = 0;
  for (let ci = 0; ci < n; ci++) {
    const client = clients[ci];
    const plan = plans[ci];
    if (client === undefined || plan === undefined) continue;
    hashes[ci] = hashString(client.name);
    const slots = plan.fixed.length + plan.free * largestGroup;
    totalSlots += slots;
    if (slots > maxSlotsPerClient) maxSlotsPerClient = slots;
    for (const m of plan.fixed) load[m] = (load[m] ?? 0) + 1;
  }
  const maxLoad = ceilClean((policy.maxLoadFactor * totalSlots) / count);
  const placementLoad = Math.max(
    ceilClean(totalSlots / count),
    ceilClean((policy.maxLoadFactor * (totalSlots - maxSlotsPerClient)) / count),
  );

  const traced = options.traceClient ?? -1;
  const events: AssignmentEvent[] = [];
  const keysOf = (gi: number): string[] =>
    (groups[gi]?.members ?? []).map((m) => reflectors[m]?.key ?? "");
  /** 0 below the placement bound, 1 below the hard bound, 2 at or above it. */
  const levelOf = (heaviest: number): 0 | 1 | 2 =>
    heaviest < placementLoad ? 0 : heaviest < maxLoad ? 1 : 2;
  const take = (ci: number, gi: number): void => {
    chosen[ci * maxFree + (chosenCount[ci] ?? 0)] = gi;
    chosenCount[ci] = (chosenCount[ci] ?? 0) + 1;
    const single = singleMember[gi] ?? -1;
    if (single >= 0) load[single] = (load[single] ?? 0) + 1;
    else for (const m of groups[gi]?.members ?? []) load[m] = (load[m] ?? 0) + 1;
  };
  const release = (ci: number, gi: number): void => {
    const base = ci * maxFree;
    const k = chosenCount[ci] ?? 0;
    for (let j = 0; j < k; j++) {
      if (chosen[base + j] !== gi) continue;
      chosen[base + j] = chosen[base + k - 1] ?? 0;
      chosenCount[ci] = k - 1;
      for (const m of groups[gi]?.members ?? []) load[m] = (load[m] ?? 0) - 1;
      return;
    }
  };
  const holds = (ci: number, gi: number): boolean => {
    const base = ci * maxFree;
    const k = chosenCount[ci] ?? 0;
    for (let j = 0; j < k; j++) if (chosen[base + j] === gi) return true;
    return false;
  };
  const weight = (ci: number, gi: number): number =>
    pairWeight(hashes[ci] ?? 0, groups[gi]?.hash ?? 0);
  // Flat per-group facts for the hot loop below.
  const zoneIds = new Map<string, number>();
  const zoneIdOf = (zone: string): number => {
    let id = zoneIds.get(zone);
    if (id === undefined) zoneIds.set(zone, (id = zoneIds.size));
    return id;
  };
  const groupZone = Int32Array.from(groups, (g) => zoneIdOf(g.zone));
  const groupUp = Uint8Array.from(groups, (g) => (g.up ? 1 : 0));
  const singleMember = Int32Array.from(groups, (g) =>
    g.members.length === 1 ? (g.members[0] ?? -1) : -1,
  );
  const clientZone = new Int32Array(n);
  for (let ci = 0; ci < n; ci++) clientZone[ci] = zoneIdOf(clients[ci]?.zone ?? "");
  /** Preference tier of group `gi` for client `ci` given its choices so far; lower is better. */
  const tierOf = (ci: number, gi: number): number => {
    if (groupUp[gi] !== 1) return 9; // down reflectors last
    if (policy.topology !== "multi") return 0;
    const zone = clientZone[ci] ?? -1;
    const gz = groupZone[gi] ?? -2;
    const base = ci * maxFree;
    const k = chosenCount[ci] ?? 0;
    let hasOwn = false;
    let zoneUsed = false;
    for (let j = 0; j < k; j++) {
      const z = groupZone[chosen[base + j] ?? 0];
      if (z === zone) hasOwn = true;
      if (z === gz) zoneUsed = true;
    }
    if (!hasOwn && plans[ci]?.hasOwn === true) return gz === zone ? 0 : 3;
    return zoneUsed ? 2 : 1;
  };
  const fits = (gi: number, bound: number): boolean => {
    for (const m of groups[gi]?.members ?? []) if ((load[m] ?? 0) >= bound) return false;
    return true;
  };

  const tracedPlan = plans[traced];
  if (tracedPlan !== undefined && tracedPlan.fixed.length > 0) {
    events.push({ kind: "fixed", keys: tracedPlan.fixed.map((m) => reflectors[m]?.key ?? "") });
  }
  /** Every candidate of the traced client as `choose` weighs it now. */
  const traceCandidates = (ci: number, plan: ZonePlan): CandidateTrace[] =>
    plan.candidates.map((gi) => ({
      keys: keysOf(gi),
      zone: groups[gi]?.zone ?? "",
      up: groups[gi]?.up === true,
      load: Math.max(0, ...(groups[gi]?.members ?? []).map((m) => load[m] ?? 0)),
      level: levelOf(Math.max(0, ...(groups[gi]?.members ?? []).map((m) => load[m] ?? 0))),
      held: holds(ci, gi),
      tier: tierOf(ci, gi),
      weight: weight(ci, gi),
    }));

  // 1. Keep current choices that are still designed (by tier, then weight, if too many).
  for (let ci = 0; ci < n; ci++) {
    const keys = clients[ci]?.currentKeys ?? [];
    const plan = plans[ci];
    if (keys.length === 0 || plan === undefined || plan.free === 0) continue;
    const kept: number[] = [];
    for (const key of keys) {
      const gi = groupOfKey.get(key);
      if (gi !== undefined && plan.isCandidate[gi] === 1 && !kept.includes(gi)) kept.push(gi);
    }
    if (kept.length > plan.free) {
      // More than it may keep (say reflectorsPerNode went down): keep the best, one at a time.
      while ((chosenCount[ci] ?? 0) < plan.free && kept.length > 0) {
        kept.sort((a, b) => tierOf(ci, a) - tierOf(ci, b) || weight(ci, b) - weight(ci, a));
        const gi = kept.shift();
        if (gi !== undefined) take(ci, gi);
      }
    } else {
      for (const gi of kept) take(ci, gi);
    }
    if (ci === traced && (chosenCount[ci] ?? 0) > 0) {
      events.push({ kind: "kept", keys: heldKeys(ci) });
    }
    // A client whose reflectors are all down (NotReady within grace) gives up those it kept, so it
    // is served now rather than when the grace period ends.
    if (!isServed(ci, plan) && plan.candidates.some((gi) => groups[gi]?.up === true)) {
      if (ci === traced)
        events.push({ kind: "released", keys: heldKeys(ci), reason: "ReflectorsDown" });
      while ((chosenCount[ci] ?? 0) > 0) release(ci, chosen[ci * maxFree] ?? 0);
    }
  }
  function heldKeys(ci: number): string[] {
    const keys: string[] = [];
    for (let j = 0; j < (chosenCount[ci] ?? 0); j++)
      keys.push(...keysOf(chosen[ci * maxFree + j] ?? 0));
    return keys;
  }
  function isServed(ci: number, plan: ZonePlan): boolean {
    if (plan.fixed.some((m) => reflectors[m]?.ready === true)) return true;
    for (let j = 0; j < (chosenCount[ci] ?? 0); j++)
      if (groups[chosen[ci * maxFree + j] ?? 0]?.up === true) return true;
    return false;
  }

  // 2. Shed: a reflector above the bound sheds the clients that rank it lowest — only as many as
  // up reflectors elsewhere have room for, or they would come straight back (and replanning the
  // result would move them again).
  for (let r = 0; r < count; r++) {
    const excess = (load[r] ?? 0) - maxLoad;
    if (excess <= 0) continue;
    let room = 0;
    for (const g of groups) {
      if (!g.up || g.members.includes(r)) continue;
      room += Math.max(0, maxLoad - Math.max(...g.members.map((m) => load[m] ?? 0)));
    }
    for (const { ci, gi } of holdersOf(r).slice(0, Math.min(excess, room))) {
      if (ci === traced)
        events.push({ kind: "released", keys: keysOf(gi), reason: "OverLoadBound" });
      release(ci, gi);
    }
  }
  function holdersOf(r: number): { ci: number; gi: number }[] {
    const holders: { ci: number; gi: number }[] = [];
    for (let ci = 0; ci < n; ci++) {
      for (let j = 0; j < (chosenCount[ci] ?? 0); j++) {
        const gi = chosen[ci * maxFree + j] ?? 0;
        if (groups[gi]?.members.includes(r) === true) holders.push({ ci, gi });
      }
    }
    return holders.sort(
      (a, b) =>
        weight(a.ci, a.gi) - weight(b.ci, b.gi) ||
        compareStrings(clients[a.ci]?.name ?? "", clients[b.ci]?.name ?? ""),
    );
  }

  // 3. Fill open slots in rounds (every client's first open slot, then every client's second...),
  // best tier and weight first: up and under the placement bound, up and under the hard bound,
  // then (only when no up reflector is a candidate) any, then the least loaded.
  /**
   * The open candidate that ranks first by (tier, weight) among those under the placement
   * bound; failing that, under the hard bound; failing that, any — among up groups when the client
   * has any up candidate left. One pass over the candidates, no allocation: the client's zone
   * facts are read once, and each candidate is compared by (load level, tier, weight).
   */
  const groupHash = Uint32Array.from(groups, (g) => g.hash);
  const multi = policy.topology === "multi";
  const choose = (ci: number, candidates: readonly number[]): number => {
    const base = ci * maxFree;
    const k = chosenCount[ci] ?? 0;
    const zone = clientZone[ci] ?? -1;
    let ownChosen = false;
    for (let j = 0; j < k; j++) if (groupZone[chosen[base + j] ?? 0] === zone) ownChosen = true;
    const wantsOwn = multi && !ownChosen && plans[ci]?.hasOwn === true;
    const hash = hashes[ci] ?? 0;
    // Best up group, and best other group (it wins only when no up group is open); a weight is
    // computed only when the (level, tier) comparison does not decide.
    let up = -1;
    let upLevel = 3;
    let upTier = 0;
    let upWeight = 0;
    let down = -1;
    let downLevel = 3;
    let downWeight = 0;
    for (const gi of candidates) {
      let held = false;
      for (let j = 0; j < k; j++) if (chosen[base + j] === gi) held = true;
      if (held) continue;
      const single = singleMember[gi] ?? -1;
      let heaviest = 0;
      if (single >= 0) heaviest = load[single] ?? 0;
      else for (const m of groups[gi]?.members ?? []) heaviest = Math.max(heaviest, load[m] ?? 0);
      const level = levelOf(heaviest);
      if (groupUp[gi] !== 1) {
        // Down groups all share tier 9.
        if (down >= 0 && level > downLevel) continue;
        const w = pairWeight(hash, groupHash[gi] ?? 0);
        if (down < 0 || level < downLevel || w > downWeight) {
          down = gi;
          downLevel = level;
          downWeight = w;
        }
        continue;
      }
      // The same tiers as tierOf, from the client's facts read above.
      let tier: number;
      if (!multi) tier = 0;
      else if (wantsOwn) tier = groupZone[gi] === zone ? 0 : 3;
      else {
        tier = 1;
        const gz = groupZone[gi];
        for (let j = 0; j < k; j++) if (groupZone[chosen[base + j] ?? 0] === gz) tier = 2;
      }
      if (up >= 0 && (level > upLevel || (level === upLevel && tier > upTier))) continue;
      const w = pairWeight(hash, groupHash[gi] ?? 0);
      if (up < 0 || level < upLevel || tier < upTier || w > upWeight) {
        up = gi;
        upLevel = level;
        upTier = tier;
        upWeight = w;
      }
    }
    // Up groups win whenever there is one.
    return up >= 0 ? up : down;
  };
  for (let open = true; open;) {
    open = false;
    for (let ci = 0; ci < n; ci++) {
      const plan = plans[ci];
      if (plan === undefined || (chosenCount[ci] ?? 0) >= plan.free) continue;
      const choice = choose(ci, plan.candidates);
      if (choice < 0) continue;
      if (ci === traced) {
        events.push({
          kind: "chosen",
          keys: keysOf(choice),
          candidates: traceCandidates(ci, plan),
        });
      }
      take(ci, choice);
      open ||= (chosenCount[ci] ?? 0) < plan.free;
    }
  }

  // 4. Repair: when distinctness cornered a client onto a full reflector, move one holder of that
  // reflector (the one ranking it lowest) to an up reflector with room it does not hold yet.
  for (let r = 0; r < count; r++) {
    while ((load[r] ?? 0) > maxLoad) {
      let moved = false;
      for (const { ci, gi } of holdersOf(r)) {
        const to = (plans[ci]?.candidates ?? []).find(
          (c) => !holds(ci, c) && groups[c]?.up === true && fits(c, maxLoad),
        );
        if (to === undefined) continue;
        if (ci === traced) events.push({ kind: "moved", from: keysOf(gi), to: keysOf(to) });
        release(ci, gi);
        take(ci, to);
        moved = true;
        break;
      }
      if (!moved) break;
    }
  }

  // Key lists are interned per reflector set: clients sharing one share one array, and no
  // per-client string is built. Sets of up to three reflectors (every `multi` client, by default)
  // are keyed by a number; larger ones by their joined indices.
  const interned = new Map<number | string, readonly string[]>();
  const members: number[] = [];
  const keysOfClient = new Array<readonly string[] | undefined>(n);
  for (let ci = 0; ci < n; ci++) {
    const plan = plans[ci];
    const client = clients[ci];
    if (plan === undefined || client === undefined) continue;
    members.length = 0;
    const fixed = plan.fixed;
    for (let f = 0; f < fixed.length; f++) members.push(fixed[f] ?? 0);
    for (let j = 0; j < (chosenCount[ci] ?? 0); j++) {
      const gi = chosen[ci * maxFree + j] ?? 0;
      const single = singleMember[gi] ?? -1;
      if (single >= 0) members.push(single);
      else for (const m of groups[gi]?.members ?? []) members.push(m);
    }
    if (members.length === 0) continue;
    insertionSort(members); // reflectors are sorted by key, so indices sort keys numerically
    let id: number | string;
    if (members.length <= 3 && count < 1024) {
      id = 0;
      for (const m of members) id = id * 1024 + m + 1;
    } else {
      id = members.join(",");
    }
    let keys = interned.get(id);
    if (keys === undefined) interned.set(id, (keys = members.map((m) => reflectors[m]?.key ?? "")));
    keysOfClient[ci] = keys;
  }
  const loadByKey = new Map(reflectors.map((r, i) => [r.key, load[i] ?? 0]));
  // Built only when read by name (the planner reads by index).
  const keysByClient = createLazyMap(() => {
    const map = new Map<string, readonly string[]>();
    clients.forEach((client, ci) => {
      const keys = keysOfClient[ci];
      if (keys !== undefined) map.set(client.name, keys);
    });
    return map;
  });
  return {
    keysByClient,
    keysOfClient,
    loadByKey,
    maxLoad,
    ...(tracedPlan === undefined ? {} : { trace: { events, maxLoad, placementLoad } }),
  };
}

function buildGroups(reflectors: readonly ReflectorIdentity[], topology: Topology): Group[] {
  if (topology !== "zoned") {
    return reflectors.map((r, i) => ({
      zone: r.zone,
      members: [i],
      hash: hashString(r.node),
      up: r.ready,
    }));
  }
  const zones = [...new Set(reflectors.map((r) => r.zone))].sort(compareStrings);
  return zones.map((zone) => {
    const members = reflectors.flatMap((r, i) => (r.zone === zone ? [i] : []));
    return {
      zone,
      members,
      hash: hashString(`zone:${zone}`),
      up: members.some((m) => reflectors[m]?.ready === true),
    };
  });
}

/** Sorts a short array of numbers in place (cheaper than Array.prototype.sort for a handful). */
function insertionSort(values: number[]): void {
  for (let i = 1; i < values.length; i++) {
    const v = values[i] ?? 0;
    let j = i - 1;
    while (j >= 0 && (values[j] ?? 0) > v) {
      values[j + 1] = values[j] ?? 0;
      j--;
    }
    values[j + 1] = v;
  }
}

/** ceil() after rounding binary noise away (12 significant digits). */
function ceilClean(value: number): number {
  return Math.ceil(Number(value.toPrecision(12)));
}
