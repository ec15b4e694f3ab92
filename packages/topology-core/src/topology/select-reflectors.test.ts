import { describe, expect, it } from "vitest";
import { parseLabelSelector } from "../selectors/label-selector.js";
import { makeNode, makeNodes } from "../testing/builders.js";
import { selectReflectors, type SelectionPolicy } from "./select-reflectors.js";

const NOW = new Date("2026-06-01T12:00:00Z");
const policy = (overrides: Partial<SelectionPolicy> = {}): SelectionPolicy => ({
  ratio: 0.005,
  min: 3,
  max: 10,
  zoneLabel: "topology.kubernetes.io/zone",
  notReadyGraceSeconds: 300,
  exclude: undefined,
  prefer: undefined,
  ...overrides,
});
const names = (selection: ReturnType<typeof selectReflectors>) =>
  selection.reflectors.map((r) => r.node.name);

describe("selectReflectors", () => {
  it("never chooses NotReady, cordoned, lifecycle-tainted or excluded nodes", () => {
    const nodes = [
      makeNode("not-ready").notReady().build(),
      makeNode("cordoned").cordoned().build(),
      makeNode("unreachable").tainted("node.kubernetes.io/unreachable", "NoExecute").build(),
      makeNode("pressure").tainted("node.kubernetes.io/memory-pressure").build(),
      makeNode("deleting").tainted("ToBeDeletedByClusterAutoscaler").build(),
      makeNode("control-plane").withLabels({ "node-role.kubernetes.io/control-plane": "" }).build(),
      makeNode("soft-taint")
        .tainted("node.kubernetes.io/disk-pressure", "PreferNoSchedule")
        .build(),
      makeNode("ok-1").build(),
      makeNode("ok-2").build(),
    ];
    const selection = selectReflectors(
      nodes,
      policy({ exclude: parseLabelSelector("node-role.kubernetes.io/control-plane") }),
      NOW,
    );
    expect(names(selection).sort()).toEqual(["ok-1", "ok-2", "soft-taint"]);
    expect(selection.decisions.every((d) => d.kind === "promote")).toBe(true);
  });

  it("keeps a reflector that is Ready again while the lifecycle controller's not-ready taint lingers", () => {
    // The node lifecycle controller taints a NotReady node and removes the taint a few seconds
    // after the node is Ready again (node-monitor-period). In between, the reflector is as
    // healthy as its grace says: demoting it would promote another node only to take it back.
    const back = new Date(NOW.getTime() - 2_000).toISOString();
    for (const key of ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]) {
      const nodes = [
        makeNode("rr-a").inZone("a").ready(back).tainted(key).reflector("244.0.0.1").build(),
        makeNode("rr-b").inZone("b").reflector("244.0.0.2").build(),
        makeNode("rr-c").inZone("c").reflector("244.0.0.3").build(),
        ...makeNodes(30),
      ];
      const selection = selectReflectors(nodes, policy(), NOW);
      expect(names(selection), key).toEqual(["rr-a", "rr-b", "rr-c"]);
      expect(selection.decisions.find((d) => "node" in d && d.node === "rr-a")).toMatchObject({
        kind: "keep",
        reason: "WithinNotReadyGrace",
      });
      // Long after the node came back, a taint still there is the lifecycle controller's word.
      const late = selectReflectors(nodes, policy(), new Date(NOW.getTime() + 600_000));
      expect(names(late), key).not.toContain("rr-a");
    }
    // A node not yet a reflector is not promoted while it carries the taint.
    const fresh = [
      makeNode("tainted").inZone("a").ready(back).tainted("node.kubernetes.io/not-ready").build(),
      makeNode("ok").inZone("a").build(),
    ];
    expect(names(selectReflectors(fresh, policy({ min: 1, max: 1 }), NOW))).toEqual(["ok"]);
  });

  it("spreads the cluster-wide count evenly: five zones of 20 with max 3 give exactly 3, one per zone", () => {
    const nodes = makeNodes(100, ["a", "b", "c", "d", "e"]);
    const selection = selectReflectors(nodes, policy({ ratio: 0.05, min: 1, max: 3 }), NOW);
    expect(selection.reflectors).toHaveLength(3);
    expect(new Set(selection.reflectors.map((r) => r.zone)).size).toBe(3);
  });

  it("gives zones as many reflectors as their eligible nodes allow", () => {
    const nodes = [...makeNodes(30, ["a"], "a"), makeNode("b-0").inZone("b").build()];
    const selection = selectReflectors(nodes, policy({ min: 4, max: 4 }), NOW);
    const byZone = selection.reflectors.reduce<Record<string, number>>(
      (acc, r) => ({ ...acc, [r.zone]: (acc[r.zone] ?? 0) + 1 }),
      {},
    );
    expect(byZone).toEqual({ a: 3, b: 1 });
  });

  it("keeps current reflectors while they are eligible", () => {
    const nodes = makeNodes(30).map((n, i) =>
      i === 7 || i === 8 || i === 9 ? { ...n, routeReflectorClusterId: `244.0.0.${i}` } : n,
    );
    const selection = selectReflectors(nodes, policy(), NOW);
    expect(names(selection).sort()).toEqual(["node-00007", "node-00008", "node-00009"]);
    expect(selection.decisions.map((d) => d.kind)).toEqual(["keep", "keep", "keep"]);
  });

  it("holds a NotReady reflector through its grace period and replaces it after", () => {
    const base = makeNodes(6, ["a"]);
    const reflector = (since: string) =>
      makeNode("rr").inZone("a").reflector("244.0.0.1").notReady(since).build();
    const within = selectReflectors(
      [...base, reflector("2026-06-01T11:58:00Z")],
      policy({ min: 1, max: 1 }),
      NOW,
    );
    expect(names(within)).toEqual(["rr"]);
    expect(within.decisions).toContainEqual(
      expect.objectContaining({ kind: "keep", node: "rr", reason: "WithinNotReadyGrace" }),
    );

    const past = selectReflectors(
      [...base, reflector("2026-06-01T11:50:00Z")],
      policy({ min: 1, max: 1 }),
      NOW,
    );
    expect(names(past)).not.toContain("rr");
    expect(past.decisions).toContainEqual(
      expect.objectContaining({ kind: "demote", node: "rr", reason: "NotReadyPastGrace" }),
    );
  });

  it("demotes the youngest reflector on scale-down", () => {
    const nodes = makeNodes(10, ["a"]).map((n, i) =>
      i < 4
        ? {
            ...n,
            routeReflectorClusterId: `244.0.0.${i + 1}`,
            creationTimestamp: `2026-0${i + 1}-01T00:00:00Z`,
          }
        : n,
    );
    const selection = selectReflectors(nodes, policy({ min: 3, max: 3 }), NOW);
    expect(selection.decisions).toContainEqual(
      expect.objectContaining({ kind: "demote", node: "node-00003", reason: "ScaleDown" }),
    );
  });

  it("chooses preferred nodes first, then the oldest", () => {
    const nodes = [
      makeNode("young").inZone("a").createdAt("2026-05-01T00:00:00Z").build(),
      makeNode("old").inZone("a").createdAt("2025-01-01T00:00:00Z").build(),
      makeNode("dedicated")
        .inZone("a")
        .createdAt("2026-05-30T00:00:00Z")
        .withLabels({ "network.example.com/route-reflector": "true" })
        .build(),
    ];
    const selection = selectReflectors(
      nodes,
      policy({
        min: 2,
        max: 2,
        prefer: parseLabelSelector("network.example.com/route-reflector=true"),
      }),
      NOW,
    );
    expect(names(selection).sort()).toEqual(["dedicated", "old"]);
  });
});
