import { hashString, pairWeight } from "../model/hash.js";
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

/** Result of {@link assignClients}. */
export interface ClientAssignment {
  /** Client name → reflector keys, sorted numerically. Clients without reflectors are absent. */
  readonly keysByClient: ReadonlyMap<string, readonly string[]>;
  /** Reflector key → number of clients it serves. */
  readonly loadByKey: ReadonlyMap<string, number>;
  /** No reflector serves more than this many clients (bounded load), where the layout allows. */
  readonly maxLoad: number;
}

/** Reflectors a client takes or leaves together: one reflector (`multi`) or one zone's (`zoned`). */
interface Group {
  readonly id: number;
  readonly zone: string;
  readonly members: readonly number[];
  readonly hash: number;
}

interface Slots {
  readonly client: ClientInput;
  readonly hash: number;
  readonly fixed: readonly number[];
  readonly candidates: readonly Group[];
  readonly free: number;
  readonly chosen: Group[];
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
 */
export function assignClients(
  clients: readonly ClientInput[],
  reflectors: readonly ReflectorIdentity[],
  policy: AssignmentPolicy,
): ClientAssignment {
  const count = reflectors.length;
  if (count === 0) return { keysByClient: new Map(), loadByKey: new Map(), maxLoad: 0 };
  const indexByKey = new Map(reflectors.map((r, i) => [r.key, i]));
  const groups = buildGroups(reflectors, policy.topology);
  const groupsWithout = new Map<string, Group[]>();
  const membersInZone = new Map<string, number[]>();
  reflectors.forEach((r, i) => membersInZone.set(r.zone, [...(membersInZone.get(r.zone) ?? []), i]));
  const zonesWithReflectors = new Set(reflectors.map((r) => r.zone));

  const slots: Slots[] = clients.map((client) => {
    const own = membersInZone.get(client.zone) ?? [];
    const hash = hashString(client.name);
    switch (policy.topology) {
      case "single":
        return { client, hash, fixed: reflectors.map((_, i) => i), candidates: [], free: 0, chosen: [] };
      case "zoned": {
        let remote = groupsWithout.get(client.zone);
        if (remote === undefined) groupsWithout.set(client.zone, (remote = groups.filter((g) => g.zone !== client.zone)));
        return { client, hash, fixed: own, candidates: remote, free: Math.min(own.length > 0 ? 1 : 2, remote.length), chosen: [] };
      }
      case "multi":
        return { client, hash, fixed: [], candidates: groups, free: Math.min(policy.reflectorsPerNode, count), chosen: [] };
    }
  });

  const load = new Int32Array(count);
  const largestGroup = Math.max(1, ...groups.map((g) => g.members.length));
  let totalSlots = 0;
  let maxSlotsPerClient = 0;
  for (const s of slots) {
    const n = s.fixed.length + s.free * largestGroup;
    totalSlots += n;
    maxSlotsPerClient = Math.max(maxSlotsPerClient, n);
    for (const i of s.fixed) load[i] = (load[i] ?? 0) + 1;
  }
  const maxLoad = ceilClean((policy.maxLoadFactor * totalSlots) / count);
  const placementLoad = Math.max(
    ceilClean(totalSlots / count),
    ceilClean((policy.maxLoadFactor * (totalSlots - maxSlotsPerClient)) / count),
  );
  const take = (s: Slots, g: Group) => {
    s.chosen.push(g);
    for (const m of g.members) load[m] = (load[m] ?? 0) + 1;
  };
  const release = (s: Slots, g: Group) => {
    s.chosen.splice(s.chosen.indexOf(g), 1);
    for (const m of g.members) load[m] = (load[m] ?? 0) - 1;
  };
  const weight = (s: Slots, g: Group) => pairWeight(s.hash, g.hash);
  /** Preference tier of `g` for a client holding `chosen`; lower is better. */
  const tierOf = (s: Slots, g: Group): number => {
    if (!g.members.some((m) => reflectors[m]?.ready === true)) return 9; // down reflectors last
    if (policy.topology !== "multi") return 0;
    const hasOwn = s.chosen.some((c) => c.zone === s.client.zone);
    if (!hasOwn && zonesWithReflectors.has(s.client.zone)) return g.zone === s.client.zone ? 0 : 3;
    return s.chosen.some((c) => c.zone === g.zone) ? 2 : 1;
  };

  // 1. Keep current choices that are still designed (by tier, then weight, if too many).
  for (const s of slots) {
    if (s.free === 0 || s.client.currentKeys.length === 0) continue;
    const current = new Set(s.client.currentKeys.map((k) => indexByKey.get(k)));
    const kept = s.candidates.filter((g) => g.members.some((m) => current.has(m)));
    while (s.chosen.length < s.free && kept.length > 0) {
      kept.sort((a, b) => tierOf(s, a) - tierOf(s, b) || weight(s, b) - weight(s, a));
      const g = kept.shift();
      if (g !== undefined) take(s, g);
    }
  }

  // A client whose reflectors are all down (NotReady within grace) gives up those it kept, so it
  // is served now rather than when the grace period ends.
  const isUp = (g: Group) => g.members.some((m) => reflectors[m]?.ready === true);
  for (const s of slots) {
    const served = s.fixed.some((m) => reflectors[m]?.ready === true) || s.chosen.some(isUp);
    if (!served && s.candidates.some(isUp)) for (const g of [...s.chosen]) release(s, g);
  }

  // 2. Shed: a reflector above the bound sheds the clients that rank it lowest.
  for (let r = 0; r < count; r++) {
    const excess = (load[r] ?? 0) - maxLoad;
    if (excess <= 0) continue;
    const holders = slots
      .flatMap((s) => s.chosen.filter((g) => g.members.includes(r)).map((g) => ({ s, g })))
      .sort((a, b) => weight(a.s, a.g) - weight(b.s, b.g) || compareStrings(a.s.client.name, b.s.client.name));
    for (const { s, g } of holders.slice(0, excess)) release(s, g);
  }

  // 3. Fill open slots in rounds (every client's first open slot, then every client's second...),
  // best tier and weight first, under the placement bound, then the hard one. A client is never
  // parked on a reflector that is down while one that is up can take it, even above the bound:
  // routes come before balance.
  const fits = (g: Group, bound: number) => g.members.every((m) => (load[m] ?? 0) < bound);
  const heaviest = (g: Group) => Math.max(...g.members.map((m) => load[m] ?? 0));
  /** The open candidate that ranks first by (tier, weight, id) among those `accept` lets through. */
  const best = (s: Slots, accept: (g: Group) => boolean): Group | undefined => {
    let pick: Group | undefined;
    let pickTier = 0;
    let pickWeight = 0;
    for (const g of s.candidates) {
      if (s.chosen.includes(g) || !accept(g)) continue;
      const tier = tierOf(s, g);
      if (pick !== undefined && tier > pickTier) continue;
      const w = weight(s, g);
      if (pick === undefined || tier < pickTier || w > pickWeight) {
        pick = g;
        pickTier = tier;
        pickWeight = w;
      }
    }
    return pick;
  };
  for (let open = true; open; ) {
    open = false;
    for (const s of slots) {
      if (s.chosen.length >= s.free) continue;
      const anyUp = best(s, isUp) !== undefined;
      const pool = anyUp ? isUp : () => true;
      const pick =
        best(s, (g) => pool(g) && fits(g, placementLoad)) ??
        best(s, (g) => pool(g) && fits(g, maxLoad)) ??
        leastLoaded(s, pool);
      if (pick === undefined) continue;
      take(s, pick);
      open ||= s.chosen.length < s.free;
    }
  }
  function leastLoaded(s: Slots, accept: (g: Group) => boolean): Group | undefined {
    let pick: Group | undefined;
    for (const g of s.candidates) {
      if (s.chosen.includes(g) || !accept(g)) continue;
      if (pick === undefined || heaviest(g) < heaviest(pick)) pick = g;
    }
    return pick;
  }

  // 4. Repair: when distinctness cornered a client onto a full reflector, move one holder of that
  // reflector (the one ranking it lowest) to a reflector with room it does not hold yet.
  for (let r = 0; r < count; r++) {
    while ((load[r] ?? 0) > maxLoad) {
      const move = slots
        .flatMap((s) => s.chosen.filter((g) => g.members.includes(r)).map((g) => ({ s, g })))
        .sort((a, b) => weight(a.s, a.g) - weight(b.s, b.g))
        .map(({ s, g }) => ({ s, g, to: s.candidates.find((c) => !s.chosen.includes(c) && isUp(c) && fits(c, maxLoad)) }))
        .find((m) => m.to !== undefined);
      if (move?.to === undefined) break;
      release(move.s, move.g);
      take(move.s, move.to);
    }
  }

  const keysByClient = new Map<string, readonly string[]>();
  for (const s of slots) {
    const members = [...s.fixed, ...s.chosen.flatMap((g) => g.members)];
    const keys = members.map((i) => reflectors[i]?.key ?? "").sort((a, b) => Number(a) - Number(b));
    if (keys.length > 0) keysByClient.set(s.client.name, keys);
  }
  const loadByKey = new Map(reflectors.map((r, i) => [r.key, load[i] ?? 0]));
  return { keysByClient, loadByKey, maxLoad };
}

function buildGroups(reflectors: readonly ReflectorIdentity[], topology: Topology): Group[] {
  if (topology !== "zoned") {
    return reflectors.map((r, i) => ({ id: i, zone: r.zone, members: [i], hash: hashString(r.node) }));
  }
  const zones = [...new Set(reflectors.map((r) => r.zone))].sort(compareStrings);
  return zones.map((zone, id) => ({
    id,
    zone,
    members: reflectors.flatMap((r, i) => (r.zone === zone ? [i] : [])),
    hash: hashString(`zone:${zone}`),
  }));
}

/** ceil() after rounding binary noise away (12 significant digits). */
function ceilClean(value: number): number {
  return Math.ceil(Number(value.toPrecision(12)));
}
