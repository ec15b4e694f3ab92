/** What every projected object carries: its name (the key) and the version it was seen at. */
export interface Projected {
  readonly name: string;
  readonly resourceVersion?: string;
}

/**
 * What one write into the store did: `versionOnly` when the projection is equal to the stored
 * one apart from `resourceVersion` (a kubelet heartbeat, a change of a field nobody projects).
 */
export type StoreChange = "added" | "modified" | "versionOnly" | "unchanged" | "deleted";

/** How a relist's result differed from the store (counts of objects). */
export interface RelistDiff {
  readonly added: number;
  readonly modified: number;
  readonly deleted: number;
  /** Equal apart from `resourceVersion`. */
  readonly versionOnly: number;
  readonly unchanged: number;
}

/** The projected objects of one resource, keyed by name. */
export interface WatchStore<T extends Projected> {
  get(name: string): T | undefined;
  values(): IterableIterator<T>;
  readonly size: number;
  /** Grows on every write that changed anything, `resourceVersion`s included. */
  readonly generation: number;
  /** ADDED or MODIFIED: stores `value` (always, so the newest resourceVersion is kept). */
  upsert(value: T): Exclude<StoreChange, "deleted">;
  /** DELETED: `deleted`, or `unchanged` when the name was not there. */
  remove(name: string): "deleted" | "unchanged";
  /** A relist: makes `values` the whole content and says what that changed. */
  replace(values: Iterable<T>): RelistDiff;
}

/**
 * Creates an empty {@link WatchStore}. A relist is applied as the ADDED, MODIFIED and DELETED
 * events it stands for, so objects whose projection did not change keep their identity and a
 * relist that changed nothing reports zero changes.
 */
export function createWatchStore<T extends Projected>(): WatchStore<T> {
  let objects = new Map<string, T>();
  let generation = 0;

  const classify = (previous: T | undefined, value: T): Exclude<StoreChange, "deleted"> => {
    if (previous === undefined) return "added";
    if (!isSameApartFromResourceVersion(previous, value)) return "modified";
    return previous.resourceVersion === value.resourceVersion ? "unchanged" : "versionOnly";
  };

  return {
    get: (name) => objects.get(name),
    values: () => objects.values(),
    get size() {
      return objects.size;
    },
    get generation() {
      return generation;
    },
    upsert(value) {
      const change = classify(objects.get(value.name), value);
      if (change !== "unchanged") {
        objects.set(value.name, value);
        generation += 1;
      }
      return change;
    },
    remove(name) {
      if (!objects.delete(name)) return "unchanged";
      generation += 1;
      return "deleted";
    },
    replace(values) {
      const next = new Map<string, T>();
      const counts = { added: 0, modified: 0, deleted: 0, versionOnly: 0, unchanged: 0 };
      for (const value of values) {
        const previous = objects.get(value.name);
        const change = classify(previous, value);
        counts[change] += 1;
        // Keep the stored object when nothing changed: consumers may compare by identity.
        next.set(value.name, change === "unchanged" && previous !== undefined ? previous : value);
      }
      for (const name of objects.keys()) if (!next.has(name)) counts.deleted += 1;
      if (counts.added + counts.modified + counts.deleted + counts.versionOnly > 0) {
        generation += 1;
      }
      objects = next;
      return counts;
    },
  };
}

/** Deep equality of two projections, ignoring their top-level `resourceVersion`. */
function isSameApartFromResourceVersion(a: Projected, b: Projected): boolean {
  const keysOf = (value: Projected) =>
    Object.keys(value).filter((key) => key !== "resourceVersion");
  const aKeys = keysOf(a);
  const bKeys = keysOf(b);
  if (aKeys.length !== bKeys.length) return false;
  const aRecord = a as unknown as Record<string, unknown>;
  const bRecord = b as unknown as Record<string, unknown>;
  return aKeys.every(
    (key) => Object.hasOwn(bRecord, key) && isDeepEqual(aRecord[key], bRecord[key]),
  );
}

/** Structural equality of JSON-like data (what projections are made of). */
function isDeepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => isDeepEqual(item, b[index]));
  }
  const aRecord = a as Record<string, unknown>;
  const bRecord = b as Record<string, unknown>;
  const aKeys = Object.keys(aRecord);
  if (aKeys.length !== Object.keys(bRecord).length) return false;
  return aKeys.every(
    (key) => Object.hasOwn(bRecord, key) && isDeepEqual(aRecord[key], bRecord[key]),
  );
}
