import {
  DEFAULT_POLICY,
  planCluster,
  type Action,
  type Analysis,
  type Decision,
  type Plan,
  type PlannedReflector,
  type PlanSummary,
  type Step,
} from "@rrfleet/topology-core";
import { makeCluster, makeNodes } from "@rrfleet/topology-core/testing";
import { describe, expect, it } from "vitest";
import { formatPlanText } from "./format-plan-text.js";

const SAFE: Analysis = {
  verdict: "Safe",
  everyStepKeepsRoutes: true,
  finalReachable: true,
  missingRoutes: { pairs: 0 },
  fragileReflectors: [],
  survivesAnySingleReflectorLoss: true,
};

function makeReflector(
  node: string,
  zone: string,
  key: string,
  clients: number,
  ready = true,
): PlannedReflector {
  return { node, clusterId: `244.0.0.${key}`, zone, key, ready, clients };
}

function patchNode(name: string): Action {
  return {
    verb: "patch",
    kind: "Node",
    name,
    patch: { metadata: { labels: { "rrfleet.io/peer-1": "true" } } },
  };
}

function createPeer(name: string): Action {
  return {
    verb: "create",
    kind: "BGPPeer",
    object: {
      apiVersion: "crd.projectcalico.org/v1",
      kind: "BGPPeer",
      metadata: { name, labels: { "app.kubernetes.io/managed-by": "rrfleet" } },
      spec: { nodeSelector: "has(rrfleet.io/peer-1)", peerSelector: "rrfleet.io/reflector == '1'" },
    },
  };
}

function makeStep(
  reason: Step["reason"],
  description: string,
  actions: Action[],
  requiresEstablishedSessions = false,
  inAnyOrder = false,
): Step {
  return { reason, description, actions, requiresEstablishedSessions, inAnyOrder };
}

interface PlanOverrides {
  readonly routeReflectors?: readonly PlannedReflector[];
  readonly steps?: readonly Step[];
  readonly decisions?: readonly Decision[];
  readonly summary?: Partial<PlanSummary>;
  readonly analysis?: Partial<Analysis>;
}

/** A small, internally consistent plan; tests override what they look at. */
function makePlan(overrides: PlanOverrides = {}): Plan {
  const routeReflectors = overrides.routeReflectors ?? [
    makeReflector("node-a1", "a", "1", 4),
    makeReflector("node-b1", "b", "2", 3),
  ];
  const steps = overrides.steps ?? [];
  return {
    routeReflectors,
    steps,
    decisions: overrides.decisions ?? [],
    summary: {
      topology: "multi",
      nodes: 9,
      readyNodes: 9,
      eligibleNodes: 9,
      reflectors: routeReflectors.length,
      meshEnabled: false,
      bgpPeers: routeReflectors.length + 1,
      foreignBgpPeers: 0,
      sessions: 15,
      pathsPerPrefix: 4,
      fullMeshSessions: 36,
      clientsPerReflector: { min: 3, max: 4, bound: 5 },
      actions: steps.reduce((n, step) => n + step.actions.length, 0),
      converged: steps.length === 0,
      ...overrides.summary,
      analysis: { ...SAFE, ...overrides.analysis },
    },
  };
}

describe("formatPlanText", () => {
  it("renders header, reflector table, counts, steps, decisions and verdict", () => {
    const plan = makePlan({
      routeReflectors: [
        makeReflector("node-a1", "a", "1", 4),
        makeReflector("n-x", "", "12", 1_234, false),
      ],
      summary: {
        nodes: 1_240,
        readyNodes: 1_200,
        eligibleNodes: 1_100,
        sessions: 2_470,
        fullMeshSessions: 768_180,
      },
      steps: [
        makeStep(
          "PrepareReflectors",
          "label 2 reflectors; write 3 BGPPeers",
          [
            createPeer("rrfleet-reflector-1"),
            patchNode("node-a1"),
            patchNode("n-x"),
            createPeer("rrfleet-reflector-12"),
          ],
          true,
          true,
        ),
        makeStep("DeleteOrphanPeers", "delete unused BGPPeers: old", [
          { verb: "delete", kind: "BGPPeer", name: "old" },
        ]),
      ],
      decisions: [
        { kind: "keep", node: "node-a1", reason: "ReflectorHealthy", message: "still eligible" },
        {
          kind: "promote",
          node: "n-x",
          reason: "ZoneBelowTarget",
          message: "zone needs 1 reflector",
        },
        { kind: "mesh", enabled: false, reason: "ReflectorsServeAllNodes", message: "mesh off" },
      ],
    });
    expect(formatPlanText(plan)).toBe(
      [
        "Plan: multi topology, 1,240 nodes (1,200 Ready, 1,100 eligible as route reflectors)",
        "",
        "Route reflectors (2):",
        "  NODE     ZONE    CLUSTER ID  KEY  CLIENTS  READY",
        "  node-a1  a       244.0.0.1     1        4  yes",
        "  n-x      (none)  244.0.0.12   12    1,234  no",
        "",
        "BGP sessions: 2,470 (full mesh would be 768,180, 0.3% of it)",
        "BGP paths per prefix: up to 4 (calico-node runs ADD-PATH)",
        "BGPPeers: rrfleet 3 (bound 4), foreign 0",
        "Mesh: off after the plan",
        "Clients per reflector: min 3, max 4, bound 5",
        "",
        "Steps (2, 5 actions):",
        "  1. PrepareReflectors: label 2 reflectors; write 3 BGPPeers",
        "     4 actions, in any order: 2 create BGPPeer, 2 patch Node; sessions it keeps confirmed first",
        "  2. DeleteOrphanPeers: delete unused BGPPeers: old",
        "     1 action: 1 delete BGPPeer",
        "",
        "Decisions (3):",
        "  KIND      NODE     REASON                   MESSAGE",
        "  keep      node-a1  ReflectorHealthy         still eligible",
        "  promote   n-x      ZoneBelowTarget          zone needs 1 reflector",
        "  mesh off  -        ReflectorsServeAllNodes  mesh off",
        "",
        "Analysis: Safe (every step keeps every route, and any single reflector can fail)",
        "  every step keeps every route:                  yes",
        "  every Ready node has every route at the end:   yes",
        "  survives the loss of any single reflector:     yes",
        "",
      ].join("\n"),
    );
  });

  it('says "Converged: nothing to do." when there are no steps', () => {
    const text = formatPlanText(makePlan({ steps: [] }));
    expect(text).toContain("\nConverged: nothing to do.\n");
    expect(text).not.toContain("Steps (");
  });

  it("says there are no reflectors instead of printing an empty table", () => {
    const text = formatPlanText(makePlan({ routeReflectors: [], summary: { meshEnabled: true } }));
    expect(text).toContain("\nRoute reflectors: none\n");
    expect(text).not.toContain("CLUSTER ID");
    expect(text).toContain("\nMesh: on after the plan\n");
  });

  it("explains an Unsafe verdict: missing routes with an example, fragile reflectors, the refused step", () => {
    const text = formatPlanText(
      makePlan({
        analysis: {
          verdict: "Unsafe",
          everyStepKeepsRoutes: false,
          finalReachable: false,
          missingRoutes: { pairs: 12, example: { from: "node-c3", to: "node-a2" } },
          fragileReflectors: ["node-a1", "node-b1"],
          survivesAnySingleReflectorLoss: false,
          refusedStep: {
            reason: "WouldLoseRoutes",
            description: "demote 1 reflector: node-b1",
            lost: { pairs: 8, example: { from: "node-b4", to: "node-a3" } },
          },
        },
      }),
    );
    expect(text).toContain("Analysis: Unsafe (routes are or would be missing)\n");
    expect(text).toContain("  every step keeps every route:                  no\n");
    expect(text).toContain("  missing routes: 12 node pairs, e.g. node-c3 -> node-a2\n");
    expect(text).toContain(
      "  fragile reflectors (their loss alone cuts routes): node-a1, node-b1\n",
    );
    expect(text).toContain(
      "  refused step (WouldLoseRoutes): demote 1 reflector: node-b1; it would lose 8 route pairs, " +
        "e.g.\n    node-b4 -> node-a3. The plan stops before it.\n",
    );
  });

  it("says a lone reflector is a single point of failure", () => {
    const text = formatPlanText(
      makePlan({
        routeReflectors: [makeReflector("node-a1", "a", "1", 8)],
        analysis: { verdict: "Degraded", survivesAnySingleReflectorLoss: false },
      }),
    );
    expect(text).toContain(
      "Analysis: Degraded (every route is there, but losing one reflector would cut some)\n",
    );
    expect(text).toContain("  only 1 reflector: nothing takes over if one fails\n");
  });

  it("wraps long step descriptions at 100 columns under the step's text, keeping numbers with their word", () => {
    const names = Array.from(
      { length: 12 },
      (_, i) => `node-${String(i).padStart(5, "0")}.example.internal`,
    );
    const description = `label 12 reflectors (${names.join(", ")}); write 13 BGPPeers`;
    const text = formatPlanText(
      makePlan({ steps: [makeStep("PrepareReflectors", description, [patchNode("a")])] }),
    );
    const stepLines = text
      .split("\n")
      .filter((line) => line.startsWith("  1. ") || line.startsWith("     "));
    expect(stepLines.length).toBeGreaterThan(3);
    for (const line of stepLines) expect(line.length).toBeLessThanOrEqual(100);
    expect(stepLines.map((line) => line.trim()).join(" ")).toBe(
      `1. PrepareReflectors: ${description} 1 action: 1 patch Node`,
    );
    expect(text).not.toMatch(/ 13\n/);
  });

  it("shows tiny and undefined mesh shares without misleading zeros", () => {
    expect(
      formatPlanText(makePlan({ summary: { sessions: 10_000, fullMeshSessions: 12_497_500 } })),
    ).toContain("BGP sessions: 10,000 (full mesh would be 12,497,500, <0.1% of it)\n");
    expect(formatPlanText(makePlan({ summary: { sessions: 0, fullMeshSessions: 0 } }))).toContain(
      "BGP sessions: 0 (full mesh would be 0, n/a of it)\n",
    );
  });

  it("renders the same plan to the same text, naming every reflector of a real plan", () => {
    const plan = planCluster(
      makeCluster(makeNodes(30)),
      DEFAULT_POLICY,
      new Date("2026-11-28T00:00:00Z"),
    );
    const text = formatPlanText(plan);
    expect(formatPlanText(plan)).toBe(text);
    expect(plan.routeReflectors.length).toBeGreaterThan(0);
    for (const reflector of plan.routeReflectors) expect(text).toContain(`  ${reflector.node}  `);
    expect(text.endsWith("\n")).toBe(true);
  });
  it("says when a step's writes must go in the order listed", () => {
    const text = formatPlanText(
      makePlan({
        steps: [
          makeStep("DemoteReflectors", "demote 1 reflector", [patchNode("a"), patchNode("b")]),
        ],
      }),
    );
    expect(text).toContain("     2 actions, in the order listed: 2 patch Node");
  });
});
