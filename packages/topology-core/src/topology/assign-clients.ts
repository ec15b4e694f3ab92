import { hashString, pairWeight } from "../model/hash.js";
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

/**
 * Assigns clients to reflectors.
 *
 * - `single`: every client peers every reflector (fixed).
 * - `zoned`: every reflector of its own zone (fixed) plus one remote reflector (two from different
 *   zones when its zone has none), chosen freely.
 * - `multi`: `reflectorsPerNode` reflectors chosen freely: the first in its own zone, the next in
 *   zones not yet used.
 *
 * Free choices use rendezvous hashing with bounded load and are sticky: a client keeps a current
 * reflector while it is still designed, fits the zone rules and its reflector is not above
 * ceil(maxLoadFactor × mean). So adding or removing a client moves nobody else, and losing a
 * reflector moves only its clients. New choices are placed under a slightly tighter bound (the
 * mean computed with one client fewer) so that a later removal never pushes a reflector over the
 * bound and forces a move.
 */
export function assignClients(
  clients: readonly ClientInput[],
  reflectors: readonly ReflectorIdentity[],
  policy: AssignmentPolicy,
): ClientAssignment {
  const reflectorCount = reflectors.length;
  if (reflectorCount === 0) return { keysByClient: new Map(), loadByKey: new Map(), maxLoad: 0 };

  const rrs = reflectors.map((r, index) => ({ ...r, index, hash: hashString(r.node) }));
  const indexByKey = new Map(rrs.map((r) => [r.key, r.index]));
  const zonesWithReflectors = new Set(rrs.map((r) => r.zone));
  const load = new Int32Array(reflectorCount);

  const slots = clients.map((client) => {
    const ownZone = rrs.filter((r) => r.zone === client.zone).map((r) => r.index);
    let fixed: number[];
    let free: number;
    switch (policy.topology) {
      case "single":
        fixed = rrs.map((r) => r.index);
        free = 0;
        break;
      case "zoned": {
        fixed = ownZone;
        const remoteZones = zonesWithReflectors.size - (ownZone.length > 0 ? 1 : 0);
        free = Math.min(ownZone.length > 0 ? 1 : 2, remoteZones);
        break;
      }
      case "multi":
        fixed = [];
        free = Math.min(policy.reflectorsPerNode, reflectorCount);
        break;
    }
    return { client, hash: hashString(client.name), fixed, free, chosen: [] as number[] };
  });

  let totalSlots = 0;
  let maxSlotsPerClient = 0;
  for (const s of slots) {
    const n = s.fixed.length + s.free;
    totalSlots += n;
    maxSlotsPerClient = Math.max(maxSlotsPerClient, n);
    for (const i of s.fixed) load[i] = (load[i] ?? 0) + 1;
  }
  const maxLoad = ceilClean((policy.maxLoadFactor * totalSlots) / reflectorCount);
  const placementLoad = Math.max(
    ceilClean(totalSlots / reflectorCount),
    ceilClean((policy.maxLoadFactor * (totalSlots - maxSlotsPerClient)) / reflectorCount),
  );

  const isFreeCandidate = (s: (typeof slots)[number], index: number): boolean =>
    policy.topology === "zoned" ? rrs[index]?.zone !== s.client.zone : true;

  /** Preference tier of reflector `index` for a client holding `chosen`; lower is better. */
  const tierOf = (s: (typeof slots)[number], chosen: readonly number[], index: number): number => {
    const zone = rrs[index]?.zone;
    const used = new Set(chosen.map((i) => rrs[i]?.zone));
    for (const i of s.fixed) used.add(rrs[i]?.zone);
    if (policy.topology === "multi" && !used.has(s.client.zone) && zonesWithReflectors.has(s.client.zone)) {
      return zone === s.client.zone ? 0 : 3;
    }
    return zone !== undefined && used.has(zone) ? 2 : 1;
  };

  // 1. Keep current free choices that are still valid, best tier and highest weight first.
  for (const s of slots) {
    if (s.free === 0) continue;
    const kept = [
      ...new Set(
        s.client.currentKeys
          .map((key) => indexByKey.get(key))
          .filter((i): i is number => i !== undefined && isFreeCandidate(s, i) && !s.fixed.includes(i)),
      ),
    ];
    while (s.chosen.length < s.free && kept.length > 0) {
      const bestTier = bestAvailableTier(s, s.chosen);
      let pick = -1;
      for (let k = 0; k < kept.length; k++) {
        const candidate = kept[k] ?? 0;
        if (tierOf(s, s.chosen, candidate) !== bestTier) continue;
        if (pick < 0 || weight(s.hash, candidate) > weight(s.hash, kept[pick] ?? 0)) pick = k;
      }
      if (pick < 0) break;
      const [index] = kept.splice(pick, 1);
      if (index === undefined) break;
      s.chosen.push(index);
      load[index] = (load[index] ?? 0) + 1;
    }
  }

  function bestAvailableTier(s: (typeof slots)[number], chosen: readonly number[]): number {
    let best = Number.POSITIVE_INFINITY;
    for (const r of rrs) {
      if (!isFreeCandidate(s, r.index) || chosen.includes(r.index) || s.fixed.includes(r.index)) continue;
      best = Math.min(best, tierOf(s, chosen, r.index));
    }
    return best;
  }

  function weight(clientHash: number, index: number): number {
    return pairWeight(clientHash, rrs[index]?.hash ?? 0);
  }

  // 2. Shed: a reflector above the bound sheds the kept clients that rank it lowest.
  for (const r of rrs) {
    const excess = (load[r.index] ?? 0) - maxLoad;
    if (excess <= 0) continue;
    const holders = slots
      .filter((s) => s.chosen.includes(r.index))
      .sort((a, b) => weight(a.hash, r.index) - weight(b.hash, r.index) || (a.client.name < b.client.name ? -1 : 1));
    for (const s of holders.slice(0, excess)) {
      s.chosen.splice(s.chosen.indexOf(r.index), 1);
      load[r.index] = (load[r.index] ?? 0) - 1;
    }
  }

  // 3. Fill the open slots: best tier first, under the placement bound, then under the hard bound.
  for (const s of slots) {
    while (s.chosen.length < s.free) {
      const ranked = rrs
        .filter((r) => isFreeCandidate(s, r.index) && !s.chosen.includes(r.index) && !s.fixed.includes(r.index))
        .map((r) => ({ index: r.index, tier: tierOf(s, s.chosen, r.index), weight: weight(s.hash, r.index) }))
        .sort((a, b) => a.tier - b.tier || b.weight - a.weight || a.index - b.index);
      if (ranked.length === 0) break;
      const tiers = [...new Set(ranked.map((r) => r.tier))];
      let pick: number | undefined;
      for (const tier of tiers) {
        pick =
          ranked.find((r) => r.tier === tier && (load[r.index] ?? 0) < placementLoad)?.index ??
          ranked.find((r) => r.tier === tier && (load[r.index] ?? 0) < maxLoad)?.index;
        if (pick !== undefined) break;
      }
      pick ??= ranked.reduce((a, b) => ((load[b.index] ?? 0) < (load[a.index] ?? 0) ? b : a)).index;
      s.chosen.push(pick);
      load[pick] = (load[pick] ?? 0) + 1;
    }
  }

  const keysByClient = new Map<string, readonly string[]>();
  for (const s of slots) {
    const keys = [...s.fixed, ...s.chosen].map((i) => rrs[i]?.key ?? "").sort((a, b) => Number(a) - Number(b));
    if (keys.length > 0) keysByClient.set(s.client.name, keys);
  }
  const loadByKey = new Map(rrs.map((r) => [r.key, load[r.index] ?? 0]));
  return { keysByClient, loadByKey, maxLoad };
}

/** ceil() after rounding binary noise away (12 significant digits). */
function ceilClean(value: number): number {
  return Math.ceil(Number(value.toPrecision(12)));
}
