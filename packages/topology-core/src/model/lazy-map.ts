/**
 * A read-only map built on first use. The planner's hot path reads per-node data by index; the
 * same data by name is part of exported results, and building a map of every node costs more
 * than the rest of a step, so it is built only if someone reads it.
 */
export function createLazyMap<K, V>(build: () => Map<K, V>): ReadonlyMap<K, V> {
  let map: Map<K, V> | undefined;
  const get = (): Map<K, V> => (map ??= build());
  return {
    get size() {
      return get().size;
    },
    get: (key) => get().get(key),
    has: (key) => get().has(key),
    forEach: (callback, thisArg?: unknown) => {
      get().forEach((value, key) => {
        callback.call(thisArg, value, key, get());
      });
    },
    entries: () => get().entries(),
    keys: () => get().keys(),
    values: () => get().values(),
    [Symbol.iterator]: () => get()[Symbol.iterator](),
  };
}
