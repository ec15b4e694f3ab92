import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  assignShards,
  type AssignShardsInput,
  type ShardAssignment,
  type ShardCluster,
  type ShardWatcher,
} from "./assign-shards.js";

const RUNS = { numRuns: Number(process.env["FC_RUNS"] ?? 300) };

// Names include ones that collide with Object.prototype, to catch plain-object lookups.
const nameArb = fc.oneof(
  fc.string({ minLength: 1, maxLength: 4 }),
  fc.constantFrom("__proto__", "constructor", "toString", "hasOwnProperty"),
  fc.nat(400).map((n) => `cluster-${n}`),
);
const weightArb = fc.oneof(
  fc.constant(1),
  fc.integer({ min: 1, max: 60 }),
  fc.integer({ min: 1, max: 5000 }),
);
const clusterListArb = (weight: fc.Arbitrary<number>, minLength: number, maxLength: number) =>
  fc.uniqueArray(fc.record({ name: nameArb, weight }), {
    selector: (c) => c.name,
    minLength,
    maxLength,
    size: "medium",
  });
/**
 * Two kinds of fleet: a few clusters of any size (oversized clusters, weights that do not pack),
 * and many light ones (where bounds bite, so joins and growth really move clusters).
 */
const clustersArb = () =>
  fc.oneof(
    clusterListArb(weightArb, 0, 30),
    clusterListArb(
      fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 100 })),
      10,
      150,
    ),
  );
const watcherArb = (capacity: boolean): fc.Arbitrary<ShardWatcher> =>
  fc
    .record({
      id: fc.nat(12).map((n) => `watcher-${n}`),
      capacity: capacity ? fc.constantFrom(undefined, 1, 2, 0.5, 3) : fc.constant(undefined),
    })
    .map(({ id, capacity: c }) => (c === undefined ? { id } : { id, capacity: c }));
const watchersArb = (options: { min?: number; capacity?: boolean } = {}) =>
  fc.uniqueArray(watcherArb(options.capacity ?? true), {
    selector: (w) => w.id,
    minLength: options.min ?? 0,
    maxLength: 7,
  });

/** A previous map over some of the clusters, pointing at live and gone watchers. */
const previousFor = (clusters: readonly ShardCluster[], watchers: readonly ShardWatcher[]) =>
  fc
    .array(
      fc.option(
        fc.oneof(fc.constantFrom(...watchers.map((w) => w.id), "gone-1"), fc.constant("gone-2")),
        { nil: undefined },
      ),
      { minLength: clusters.length, maxLength: clusters.length },
    )
    .map((owners) => ({
      epoch: 7,
      assignments: Object.fromEntries(
        clusters.flatMap((c, i) => {
          const owner = owners[i];
          return owner === undefined ? [] : [[c.name, owner] as const];
        }),
      ),
    }));

const totalOf = (clusters: readonly ShardCluster[]) => clusters.reduce((s, c) => s + c.weight, 0);

/** True when no placement can ever overflow: every weight <= (loadFactor − 1) × total / (n − 1). */
function packsUnderBound(clusters: readonly ShardCluster[], watchers: readonly ShardWatcher[]) {
  if (watchers.length < 2) return true;
  const limit = ((1.25 - 1) * totalOf(clusters)) / (watchers.length - 1);
  return clusters.every((c) => c.weight <= limit);
}

const ownerOf = (map: Readonly<Record<string, string>>, name: string) =>
  Object.hasOwn(map, name) ? map[name] : undefined;

function loadsOf(result: ShardAssignment, clusters: readonly ShardCluster[]) {
  const loads = new Map<string, number>();
  const counts = new Map<string, number>();
  for (const c of clusters) {
    const w = ownerOf(result.assignments, c.name);
    if (w === undefined) continue;
    loads.set(w, (loads.get(w) ?? 0) + c.weight);
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return { loads, counts };
}

function movedClusters(
  before: Readonly<Record<string, string>>,
  after: ShardAssignment,
  clusters: readonly ShardCluster[],
) {
  return clusters.filter((c) => {
    const was = ownerOf(before, c.name);
    return was !== undefined && was !== ownerOf(after.assignments, c.name);
  });
}

const hasCrowding = (result: ShardAssignment) =>
  result.decisions.some((d) => d.kind === "overload" && d.reason === "NoRoomWithinBound");

describe("assignShards on random fleets", () => {
  it("assigns every cluster to a live watcher when one exists, and orphans all otherwise", () => {
    fc.assert(
      fc.property(
        clustersArb().chain((clusters) =>
          watchersArb().chain((watchers) =>
            previousFor(clusters, watchers).map((previous) => ({ clusters, watchers, previous })),
          ),
        ),
        (input) => {
          const result = assignShards(input);
          const live = new Set(input.watchers.map((w) => w.id));
          if (input.watchers.length === 0) {
            expect(result.orphans).toEqual(input.clusters.map((c) => c.name).sort(byCodeUnit));
            expect(Object.keys(result.assignments)).toEqual([]);
            return;
          }
          expect(result.orphans).toEqual([]);
          expect(Object.keys(result.assignments)).toHaveLength(input.clusters.length);
          for (const c of input.clusters)
            expect(live.has(ownerOf(result.assignments, c.name) ?? "")).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it("keeps every watcher within ceil(1.25 × its share), except one oversized cluster alone or a reported overflow", () => {
    fc.assert(
      fc.property(
        clustersArb().chain((clusters) =>
          watchersArb({ min: 1 }).chain((watchers) =>
            previousFor(clusters, watchers).map((previous) => ({ clusters, watchers, previous })),
          ),
        ),
        (input) => {
          const result = assignShards(input);
          const total = totalOf(input.clusters);
          const capacity = input.watchers.reduce((s, w) => s + (w.capacity ?? 1), 0);
          const { loads, counts } = loadsOf(result, input.clusters);
          for (const w of input.watchers) {
            // The bound, computed independently of the implementation.
            const bound = Math.ceil(
              Number(((1.25 * total * (w.capacity ?? 1)) / capacity).toPrecision(12)),
            );
            expect(result.maxLoadByWatcher[w.id]).toBe(bound);
            const load = loads.get(w.id) ?? 0;
            expect(result.loadByWatcher[w.id]).toBe(load);
            const overload = result.decisions.find(
              (d) => d.kind === "overload" && d.watcher === w.id,
            );
            if (load <= bound) {
              expect(overload).toBeUndefined();
              continue;
            }
            expect(overload?.kind === "overload" ? overload.reason : "none").toBe(
              counts.get(w.id) === 1 ? "HeavierThanBound" : "NoRoomWithinBound",
            );
          }
          if (packsUnderBound(input.clusters, input.watchers)) {
            // Proof sketch: a cluster of weight x finds no room only if every watcher carries
            // more than its bound − x, so (n − 1) × x > (loadFactor − 1) × total.
            expect(result.decisions.filter((d) => d.kind === "overload")).toEqual(
              result.decisions.filter(
                (d) => d.kind === "overload" && d.reason === "HeavierThanBound",
              ),
            );
          }
        },
      ),
      RUNS,
    );
  });

  it("keeps the load bound with equal watchers and many light clusters", () => {
    fc.assert(
      fc.property(
        clusterListArb(fc.integer({ min: 1, max: 20 }), 0, 150),
        watchersArb({ min: 1, capacity: false }),
        (clusters, watchers) => {
          const result = assignShards({ clusters, watchers });
          const mean = totalOf(clusters) / watchers.length;
          const { loads } = loadsOf(result, clusters);
          if (!packsUnderBound(clusters, watchers)) return;
          for (const w of watchers)
            expect(loads.get(w.id) ?? 0).toBeLessThanOrEqual(Math.ceil(1.25 * mean - 1e-9));
        },
      ),
      RUNS,
    );
  });

  it("returns the same result whatever the order of clusters and watchers", () => {
    fc.assert(
      fc.property(
        clustersArb().chain((clusters) =>
          watchersArb().chain((watchers) =>
            fc.record({
              clusters: fc.constant(clusters),
              watchers: fc.constant(watchers),
              previous: previousFor(clusters, watchers),
              shuffledClusters: fc.shuffledSubarray(clusters, {
                minLength: clusters.length,
                maxLength: clusters.length,
              }),
              shuffledWatchers: fc.shuffledSubarray(watchers, {
                minLength: watchers.length,
                maxLength: watchers.length,
              }),
            }),
          ),
        ),
        ({ clusters, watchers, previous, shuffledClusters, shuffledWatchers }) => {
          const a = assignShards({ clusters, watchers, previous });
          const b = assignShards({
            clusters: shuffledClusters,
            watchers: shuffledWatchers,
            previous,
          });
          expect(b).toEqual(a);
          expect(Object.keys(b.assignments)).toEqual(Object.keys(a.assignments));
        },
      ),
      RUNS,
    );
  });

  it("changes nothing when its own result is fed back in (a fixed point, so no epoch churn)", () => {
    fc.assert(
      fc.property(
        clustersArb().chain((clusters) =>
          watchersArb({ min: 1 }).chain((watchers) =>
            previousFor(clusters, watchers).map((previous) => ({ clusters, watchers, previous })),
          ),
        ),
        (input) => {
          const first = assignShards(input);
          const again = assignShards({
            ...input,
            previous: { epoch: 8, assignments: first.assignments },
          });
          expect(again.changed).toBe(false);
          expect(again.assignments).toEqual(first.assignments);
          expect(again.decisions.filter((d) => d.kind === "assign")).toEqual([]);
        },
      ),
      RUNS,
    );
  });

  it("moves a cluster off a live watcher only when it no longer fits there", () => {
    fc.assert(
      fc.property(
        clustersArb().chain((clusters) =>
          watchersArb({ min: 1 }).chain((watchers) =>
            previousFor(clusters, watchers).map((previous) => ({ clusters, watchers, previous })),
          ),
        ),
        (input) => {
          const result = assignShards(input);
          const live = new Set(input.watchers.map((w) => w.id));
          const { loads } = loadsOf(result, input.clusters);
          for (const c of movedClusters(input.previous.assignments, result, input.clusters)) {
            const was = ownerOf(input.previous.assignments, c.name) ?? "";
            if (!live.has(was)) continue;
            expect((loads.get(was) ?? 0) + c.weight).toBeGreaterThan(
              result.maxLoadByWatcher[was] ?? 0,
            );
          }
        },
      ),
      RUNS,
    );
  });

  it("keeps all of a live watcher's clusters while they fit under its bound (when the weights pack)", () => {
    fc.assert(
      fc.property(
        clustersArb().chain((clusters) =>
          watchersArb({ min: 1 }).chain((watchers) =>
            previousFor(clusters, watchers).map((previous) => ({ clusters, watchers, previous })),
          ),
        ),
        (input) => {
          fc.pre(packsUnderBound(input.clusters, input.watchers));
          const result = assignShards(input);
          const stay = new Map<string, number>();
          for (const c of input.clusters) {
            const was = ownerOf(input.previous.assignments, c.name);
            if (was !== undefined && was === ownerOf(result.assignments, c.name))
              stay.set(was, (stay.get(was) ?? 0) + c.weight);
          }
          for (const w of input.watchers) {
            const held = input.clusters.filter(
              (c) => ownerOf(input.previous.assignments, c.name) === w.id,
            );
            const bound = result.maxLoadByWatcher[w.id] ?? 0;
            if (totalOf(held) <= bound) {
              for (const c of held) expect(ownerOf(result.assignments, c.name)).toBe(w.id);
            }
            // A cluster that left was one the clusters that stayed had no room for.
            for (const c of held) {
              if (ownerOf(result.assignments, c.name) === w.id) continue;
              expect((stay.get(w.id) ?? 0) + c.weight).toBeGreaterThan(bound);
            }
          }
        },
      ),
      RUNS,
    );
  });
});

describe("assignShards on fleet changes", () => {
  /** A settled map for (clusters, watchers): the one the leader would have published. */
  const settled = (clusters: readonly ShardCluster[], watchers: readonly ShardWatcher[]) =>
    assignShards({ clusters, watchers });
  const fleetArb = (minWatchers: number) =>
    fc.record({
      clusters: clustersArb(),
      watchers: watchersArb({ min: minWatchers }),
    });
  const next = (input: AssignShardsInput, before: ShardAssignment): AssignShardsInput => ({
    ...input,
    previous: { epoch: 1, assignments: before.assignments },
  });

  it("moves exactly the leaving watcher's clusters when a watcher leaves (when the weights pack)", () => {
    fc.assert(
      fc.property(fleetArb(2), fc.nat(), ({ clusters, watchers }, pick) => {
        const before = settled(clusters, watchers);
        fc.pre(!hasCrowding(before));
        const leaver = watchers[pick % watchers.length]!.id;
        const remaining = watchers.filter((w) => w.id !== leaver);
        fc.pre(packsUnderBound(clusters, remaining));
        const after = assignShards(next({ clusters, watchers: remaining }, before));
        const moved = movedClusters(before.assignments, after, clusters).map((c) => c.name);
        const owned = clusters
          .filter((c) => ownerOf(before.assignments, c.name) === leaver)
          .map((c) => c.name);
        expect(moved.sort(byCodeUnit)).toEqual(owned.sort(byCodeUnit));
        for (const d of after.decisions)
          if (d.kind === "assign") expect(d.reason).toBe("OwnerGone");
      }),
      RUNS,
    );
  });

  it("moves clusters only onto the joining watcher, while it has room, when a watcher joins", () => {
    fc.assert(
      fc.property(
        fleetArb(1),
        watcherArb(true).map((w) => ({ ...w, id: `joiner-${w.id}` })),
        ({ clusters, watchers }, joiner) => {
          const before = settled(clusters, watchers);
          fc.pre(packsUnderBound(clusters, [...watchers, joiner]) && !hasCrowding(before));
          const after = assignShards(next({ clusters, watchers: [...watchers, joiner] }, before));
          // The joiner takes what the lowered bounds shed until it is full itself (the shed total
          // can exceed its bound by the rounding of every other bound, or not split evenly).
          const room =
            (after.maxLoadByWatcher[joiner.id] ?? 0) - (after.loadByWatcher[joiner.id] ?? 0);
          for (const c of movedClusters(before.assignments, after, clusters)) {
            if (ownerOf(after.assignments, c.name) !== joiner.id)
              expect(c.weight).toBeGreaterThan(room);
          }
          for (const d of after.decisions)
            if (d.kind === "assign") expect(d.reason).toBe("Rebalanced");
        },
      ),
      RUNS,
    );
  });

  it("moves nobody when a cluster is added (when the weights pack)", () => {
    fc.assert(
      fc.property(fleetArb(1), weightArb, ({ clusters, watchers }, weight) => {
        const before = settled(clusters, watchers);
        fc.pre(!hasCrowding(before));
        const added = { name: "added-cluster", weight };
        fc.pre(!clusters.some((c) => c.name === added.name));
        fc.pre(packsUnderBound([...clusters, added], watchers));
        const after = assignShards(next({ clusters: [...clusters, added], watchers }, before));
        expect(movedClusters(before.assignments, after, clusters)).toEqual([]);
      }),
      RUNS,
    );
  });

  it("moves clusters only off the grown cluster's watcher when one cluster grows", () => {
    fc.assert(
      fc.property(
        fleetArb(1).filter(({ clusters }) => clusters.length > 0),
        fc.nat(),
        fc.integer({ min: 1, max: 5000 }),
        ({ clusters, watchers }, pick, growth) => {
          const before = settled(clusters, watchers);
          fc.pre(!hasCrowding(before));
          const grown = clusters[pick % clusters.length]!;
          const home = ownerOf(before.assignments, grown.name);
          const after = assignShards(
            next(
              {
                clusters: clusters.map((c) =>
                  c === grown ? { ...c, weight: c.weight + growth } : c,
                ),
                watchers,
              },
              before,
            ),
          );
          for (const c of movedClusters(before.assignments, after, clusters))
            expect(ownerOf(before.assignments, c.name)).toBe(home);
        },
      ),
      RUNS,
    );
  });

  it("moves a cluster off a live watcher only when it no longer fits there after one shrinks", () => {
    fc.assert(
      fc.property(
        fleetArb(1).filter(({ clusters }) => clusters.length > 0),
        fc.nat(),
        ({ clusters, watchers }, pick) => {
          const before = settled(clusters, watchers);
          fc.pre(!hasCrowding(before));
          const shrunk = clusters[pick % clusters.length]!;
          const changed = clusters.map((c) => (c === shrunk ? { ...c, weight: 1 } : c));
          const after = assignShards(next({ clusters: changed, watchers }, before));
          const { loads } = loadsOf(after, changed);
          for (const c of movedClusters(before.assignments, after, changed)) {
            const was = ownerOf(before.assignments, c.name) ?? "";
            expect((loads.get(was) ?? 0) + c.weight).toBeGreaterThan(
              after.maxLoadByWatcher[was] ?? 0,
            );
          }
        },
      ),
      RUNS,
    );
  });
});

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
