/** One zone as {@link spreadOverZones} sees it. */
export interface ZoneCapacity {
  readonly zone: string;
  /** How many reflectors the zone could host (eligible nodes plus reflectors held during grace). */
  readonly capacity: number;
  /** How many reflectors it has now that may stay; zones that already have them win ties. */
  readonly current: number;
}

/**
 * Spreads `total` reflectors over zones as evenly as their capacity allows (water filling):
 * each reflector goes to the zone with the fewest so far; ties go to the zone that already has
 * more reflectors (no needless moves), then the one with more capacity, then by name.
 * Returns zone → target count; never exceeds a zone's capacity.
 */
export function spreadOverZones(
  total: number,
  zones: readonly ZoneCapacity[],
): Map<string, number> {
  const targets = new Map<string, number>(zones.map((z) => [z.zone, 0]));
  for (let placed = 0; placed < total; placed++) {
    let best: ZoneCapacity | undefined;
    let bestCount = 0;
    for (const zone of zones) {
      const count = targets.get(zone.zone) ?? 0;
      if (count >= zone.capacity) continue;
      if (best === undefined || isBetter(zone, count, best, bestCount)) {
        best = zone;
        bestCount = count;
      }
    }
    if (best === undefined) break;
    targets.set(best.zone, bestCount + 1);
  }
  return targets;
}

function isBetter(a: ZoneCapacity, aCount: number, b: ZoneCapacity, bCount: number): boolean {
  if (aCount !== bCount) return aCount < bCount;
  const aHas = a.current > aCount;
  const bHas = b.current > bCount;
  if (aHas !== bHas) return aHas;
  if (a.capacity !== b.capacity) return a.capacity > b.capacity;
  return a.zone < b.zone;
}
