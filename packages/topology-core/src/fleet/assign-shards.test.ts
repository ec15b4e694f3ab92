import { describe, expect, it } from "vitest";
import {
  assignShards,
  type AssignShardsInput,
  type ShardAssignment,
  type ShardCluster,
  type ShardDecision,
  type ShardWatcher,
} from "./assign-shards.js";

const cluster = (name: string, weight = 1): ShardCluster => ({ name, weight });
const watcher = (id: string, capacity?: number): ShardWatcher =>
  capacity === undefined ? { id } : { id, capacity };
const map = (assignments: Record<string, string>) => ({ epoch: 3, assignments });

/** Reason per cluster, from the keep/assign/orphan decisions. */
function reasonsOf(result: ShardAssignment): Record<string, string> {
  return Object.fromEntries(
    result.decisions.flatMap((d) =>
      d.kind === "keep" || d.kind === "assign" || d.kind === "orphan"
        ? [[d.cluster, d.reason]]
        : [],
    ),
  );
}
const countReasons = (result: ShardAssignment) => {
  const counts: Record<string, number> = {};
  for (const reason of Object.values(reasonsOf(result))) counts[reason] = (counts[reason] ?? 0) + 1;
  return counts;
};
const overloads = (result: ShardAssignment) =>
  result.decisions.flatMap((d) => (d.kind === "overload" ? [d.reason] : []));
const sortedLoads = (result: ShardAssignment) =>
  Object.values(result.loadByWatcher).sort((a, b) => a - b);

describe("assignShards", () => {
  const rows: {
    name: string;
    input: AssignShardsInput;
    wantAssignments?: Record<string, string>;
    wantReasons?: Record<string, string>;
    wantReasonCounts?: Record<string, number>;
    wantOrphans?: string[];
    wantChanged: boolean;
    wantOverloads?: string[];
    wantSortedLoads?: number[];
    wantMaxLoads?: Record<string, number>;
  }[] = [
    {
      name: "a fleet with no live watcher orphans every cluster and says why",
      input: { clusters: [cluster("b"), cluster("a")], watchers: [], previous: map({ a: "w1" }) },
      wantAssignments: {},
      wantOrphans: ["a", "b"],
      wantReasons: { a: "NoWatchers", b: "NoWatchers" },
      wantChanged: true,
    },
    {
      name: "no clusters and no previous map leave nothing to publish",
      input: { clusters: [], watchers: [watcher("w1")] },
      wantAssignments: {},
      wantOrphans: [],
      wantChanged: false,
    },
    {
      name: "a single watcher takes every cluster, however heavy (its bound is 1.25 × the total)",
      input: {
        clusters: [cluster("huge", 5000), cluster("small", 3), cluster("tiny")],
        watchers: [watcher("w1")],
      },
      wantAssignments: { huge: "w1", small: "w1", tiny: "w1" },
      wantReasons: { huge: "NewCluster", small: "NewCluster", tiny: "NewCluster" },
      wantChanged: true,
      wantOverloads: [],
      wantMaxLoads: { w1: 6255 },
    },
    {
      name: "clusters stay on their watcher while it is within the bound, even if another is idle",
      input: {
        clusters: [cluster("a"), cluster("b")],
        watchers: [watcher("w1"), watcher("w2")],
        previous: map({ a: "w1", b: "w1" }),
      },
      wantAssignments: { a: "w1", b: "w1" },
      wantReasons: { a: "Kept", b: "Kept" },
      wantChanged: false,
      wantMaxLoads: { w1: 2, w2: 2 },
    },
    {
      name: "a cluster whose watcher stopped heartbeating moves to a live one",
      input: {
        clusters: [cluster("a")],
        watchers: [watcher("w2")],
        previous: map({ a: "w1" }),
      },
      wantAssignments: { a: "w2" },
      wantReasons: { a: "OwnerGone" },
      wantChanged: true,
    },
    {
      name: "a watcher over the lowered bound sheds only what no longer fits, onto the watcher that joined",
      input: {
        clusters: [cluster("a"), cluster("b"), cluster("c"), cluster("d")],
        watchers: [watcher("w1"), watcher("w2")],
        previous: map({ a: "w1", b: "w1", c: "w1", d: "w1" }),
      },
      wantReasonCounts: { Kept: 3, Rebalanced: 1 },
      wantChanged: true,
      wantSortedLoads: [1, 3],
      wantMaxLoads: { w1: 3, w2: 3 },
    },
    {
      name: "a cluster heavier than the bound sits alone on its watcher and is reported",
      input: {
        clusters: [
          cluster("huge", 5000),
          cluster("s1", 10),
          cluster("s2", 10),
          cluster("s3", 10),
          cluster("s4", 10),
        ],
        watchers: [watcher("w1"), watcher("w2"), watcher("w3")],
      },
      wantOverloads: ["HeavierThanBound"],
      wantChanged: true,
      wantMaxLoads: { w1: 2100, w2: 2100, w3: 2100 },
    },
    {
      name: "weights that cannot pack under the bound are reported, not hidden",
      input: {
        clusters: [cluster("a", 1000), cluster("b", 1000), cluster("c", 1000)],
        watchers: [watcher("w1"), watcher("w2")],
      },
      wantOverloads: ["NoRoomWithinBound"],
      wantSortedLoads: [1000, 2000],
      wantChanged: true,
      wantMaxLoads: { w1: 1875, w2: 1875 },
    },
    {
      name: "a cluster that left the fleet is released and the map changes",
      input: {
        clusters: [cluster("a")],
        watchers: [watcher("w1")],
        previous: map({ a: "w1", retired: "w1" }),
      },
      wantAssignments: { a: "w1" },
      wantReasons: { a: "Kept" },
      wantChanged: true,
    },
    {
      name: "cluster names that are Object.prototype members are ordinary names",
      input: {
        clusters: [cluster("__proto__"), cluster("constructor"), cluster("toString")],
        watchers: [watcher("w1")],
        previous: { epoch: 1, assignments: Object.fromEntries([["__proto__", "w1"]]) },
      },
      wantAssignments: Object.fromEntries([
        ["__proto__", "w1"],
        ["constructor", "w1"],
        ["toString", "w1"],
      ]),
      wantReasons: Object.fromEntries([
        ["__proto__", "Kept"],
        ["constructor", "NewCluster"],
        ["toString", "NewCluster"],
      ]),
      wantChanged: true,
    },
    {
      name: "capacity scales a watcher's share of the bound",
      input: {
        clusters: Array.from({ length: 40 }, (_, i) => cluster(`c${i}`)),
        watchers: [watcher("big", 3), watcher("small")],
      },
      wantMaxLoads: { big: 38, small: 13 },
      wantOverloads: [],
      wantChanged: true,
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const result = assignShards(row.input);
      if (row.wantAssignments !== undefined) {
        expect(result.assignments).toEqual(row.wantAssignments);
        expect(Object.keys(result.assignments)).toEqual(Object.keys(row.wantAssignments).sort());
      }
      if (row.wantReasons !== undefined) expect(reasonsOf(result)).toEqual(row.wantReasons);
      if (row.wantReasonCounts !== undefined)
        expect(countReasons(result)).toEqual(row.wantReasonCounts);
      if (row.wantOrphans !== undefined) expect(result.orphans).toEqual(row.wantOrphans);
      expect(result.changed).toBe(row.wantChanged);
      if (row.wantOverloads !== undefined) expect(overloads(result)).toEqual(row.wantOverloads);
      if (row.wantSortedLoads !== undefined)
        expect(sortedLoads(result)).toEqual(row.wantSortedLoads);
      if (row.wantMaxLoads !== undefined) expect(result.maxLoadByWatcher).toEqual(row.wantMaxLoads);
    });
  }

  it("puts the oversized cluster alone and the rest on the other watchers", () => {
    const result = assignShards({
      clusters: [cluster("huge", 5000), ...["s1", "s2", "s3", "s4"].map((n) => cluster(n, 10))],
      watchers: [watcher("w1"), watcher("w2"), watcher("w3")],
    });
    const home = result.assignments["huge"];
    for (const n of ["s1", "s2", "s3", "s4"]) expect(result.assignments[n]).not.toBe(home);
    expect(result.loadByWatcher[home ?? ""]).toBe(5000);
  });

  it("names the watcher a cluster leaves and the one it goes to", () => {
    const result = assignShards({
      clusters: [cluster("a")],
      watchers: [watcher("w2")],
      previous: map({ a: "w1" }),
    });
    const decision = result.decisions[0];
    expect(decision).toMatchObject({
      kind: "assign",
      cluster: "a",
      watcher: "w2",
      previous: "w1",
      reason: "OwnerGone",
    } satisfies Partial<ShardDecision>);
    expect(decision?.message).toContain("w1");
  });

  it("lists decisions per cluster in name order, then releases, then overloads", () => {
    const result = assignShards({
      clusters: [cluster("c", 1000), cluster("a", 1000), cluster("b", 1000)],
      watchers: [watcher("w1"), watcher("w2")],
      previous: map({ gone: "w1" }),
    });
    expect(result.decisions.map((d) => d.kind)).toEqual([
      "assign",
      "assign",
      "assign",
      "release",
      "overload",
    ]);
    expect(result.decisions.slice(0, 3).map((d) => ("cluster" in d ? d.cluster : ""))).toEqual([
      "a",
      "b",
      "c",
    ]);
  });

  const invalid: { name: string; input: AssignShardsInput; wantMessage: string }[] = [
    {
      name: "two clusters with one name",
      input: { clusters: [cluster("a"), cluster("a", 2)], watchers: [] },
      wantMessage: "duplicate cluster name a",
    },
    {
      name: "two watchers with one id",
      input: { clusters: [], watchers: [watcher("w"), watcher("w")] },
      wantMessage: "duplicate watcher id w",
    },
    {
      name: "a cluster with no nodes (callers pass max(1, nodes))",
      input: { clusters: [cluster("a", 0)], watchers: [] },
      wantMessage: "cluster a has weight 0",
    },
    {
      name: "a weight that is not a number",
      input: { clusters: [cluster("a", Number.NaN)], watchers: [] },
      wantMessage: "cluster a has weight NaN",
    },
    {
      name: "a watcher with zero capacity",
      input: { clusters: [], watchers: [watcher("w", 0)] },
      wantMessage: "watcher w has capacity 0",
    },
    {
      name: "a load factor below 1 (no packing could satisfy it)",
      input: { clusters: [], watchers: [], loadFactor: 0.9 },
      wantMessage: "loadFactor must be a finite number >= 1",
    },
  ];
  for (const row of invalid) {
    it(`throws a RangeError on ${row.name}`, () => {
      expect(() => assignShards(row.input)).toThrow(RangeError);
      expect(() => assignShards(row.input)).toThrow(row.wantMessage);
    });
  }

  it("assigns 10,000 clusters to 50 watchers, then handles a leave and a join (prints ms)", () => {
    // Node counts skewed like a real fleet: most clusters small, a few large.
    const clusters = Array.from({ length: 10_000 }, (_, i) =>
      cluster(
        `cluster-${i}`,
        1 + (((i * 2_654_435_761) % 4_294_967_296) % (i % 50 === 0 ? 2000 : 60)),
      ),
    );
    const watchers = Array.from({ length: 50 }, (_, i) => watcher(`watcher-${i}`));
    const time = <T>(fn: () => T): [T, number] => {
      const start = performance.now();
      const value = fn();
      return [value, performance.now() - start];
    };
    const [fresh, freshMs] = time(() => assignShards({ clusters, watchers }));
    const previous = { epoch: 1, assignments: fresh.assignments };
    const [steady, steadyMs] = time(() => assignShards({ clusters, watchers, previous }));
    const [left, leaveMs] = time(() =>
      assignShards({ clusters, watchers: watchers.slice(1), previous }),
    );
    const [joined, joinMs] = time(() =>
      assignShards({ clusters, watchers: [...watchers, watcher("watcher-new")], previous }),
    );
    const moved = (r: ShardAssignment) =>
      clusters.filter((c) => r.assignments[c.name] !== fresh.assignments[c.name]).length;
    console.info(
      `assignShards 10,000 clusters × 50 watchers: fresh ${freshMs.toFixed(1)} ms, ` +
        `steady ${steadyMs.toFixed(1)} ms, leave ${leaveMs.toFixed(1)} ms (${moved(left)} moved), ` +
        `join ${joinMs.toFixed(1)} ms (${moved(joined)} moved, joiner load ${joined.loadByWatcher["watcher-new"] ?? 0}); ` +
        `max load ${Math.max(...Object.values(fresh.loadByWatcher))} of bound ${fresh.maxLoadByWatcher["watcher-0"] ?? 0}`,
    );
    expect(fresh.orphans).toEqual([]);
    expect(overloads(fresh)).toEqual([]);
    expect(steady.changed).toBe(false);
    const leaverClusters = clusters.filter((c) => fresh.assignments[c.name] === "watcher-0");
    expect(moved(left)).toBe(leaverClusters.length);
    for (const c of clusters)
      if (joined.assignments[c.name] !== fresh.assignments[c.name])
        expect(joined.assignments[c.name]).toBe("watcher-new");
  });
});
