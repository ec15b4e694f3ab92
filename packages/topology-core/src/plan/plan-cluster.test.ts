import { describe, expect, it } from "vitest";
import { findLostRoutes, findMissingRoutes, viewRoutes } from "../analysis/reachability-report.js";
import type { Step } from "../model/actions.js";
import type { ClusterSnapshot } from "../model/cluster.js";
import { parseCalicoSelector } from "../selectors/calico-selector.js";
import { DEFAULT_POLICY, type Policy } from "../policy/policy.js";
import {
  countReflectorChanges,
  findUnsafePrefix,
  makeCluster,
  makeForeignPeer,
  makeNode,
  makeNodes,
  simulateActions,
  simulateSteps,
} from "../testing/index.js";
import { BOOTSTRAP_PEER_NAME, isOwnedByRrfleet } from "../model/names.js";
import { planCluster } from "./plan-cluster.js";

const NOW = new Date("2026-06-01T12:00:00Z");
const policy = (overrides: Partial<Policy> = {}): Policy => ({ ...DEFAULT_POLICY, ...overrides });

function run(cluster: ClusterSnapshot, p: Policy = policy()) {
  const plan = planCluster(cluster, p, NOW);
  const states = simulateSteps(cluster, plan.steps);
  return { plan, states, final: states.at(-1) ?? cluster };
}

function expectEveryPrefixSafe(start: ClusterSnapshot, plan: { steps: readonly Step[] }) {
  let state = start;
  plan.steps.forEach((step, i) => {
    expect(findUnsafePrefix(state, step.actions), `step ${i + 1}: ${step.description}`).toBe(
      undefined,
    );
    state = simulateActions(state, step.actions).at(-1) ?? state;
  });
}

function expectEveryStepSafe(states: readonly ClusterSnapshot[]) {
  for (let i = 1; i < states.length; i++) {
    expect(findLostRoutes(viewRoutes(states[i - 1]!), viewRoutes(states[i]!)), `step ${i}`).toEqual(
      { pairs: 0 },
    );
  }
}

describe("planCluster", () => {
  it("converges a fresh 60-node, 3-zone cluster: every step keeps routes, the mesh goes off last", () => {
    const cluster = makeCluster(makeNodes(60));
    const { plan, states, final } = run(cluster, policy({ ratio: 0.05 }));
    expect(plan.routeReflectors).toHaveLength(3);
    expect(new Set(plan.routeReflectors.map((r) => r.zone))).toEqual(new Set(["a", "b", "c"]));
    expectEveryStepSafe(states);
    const meshStep = plan.steps.findIndex((s) => s.reason === "DisableNodeMesh");
    expect(meshStep).toBe(plan.steps.length - 1);
    expect(final.bgpConfiguration.nodeToNodeMeshEnabled).toBe(false);
    expect(findMissingRoutes(viewRoutes(final))).toEqual({ pairs: 0 });
    expect(plan.summary.analysis).toMatchObject({
      verdict: "Safe",
      everyStepKeepsRoutes: true,
      finalReachable: true,
    });
    expect(plan.summary.bgpPeers).toBeLessThanOrEqual(plan.summary.reflectors + 2);
    expect(plan.summary.sessions).toBeLessThan(plan.summary.fullMeshSessions / 10);
    expect(planCluster(final, policy({ ratio: 0.05 }), NOW).steps).toEqual([]);
  });

  it("writes only valid Calico selectors and labels every object as rrfleet's", () => {
    const { plan } = run(makeCluster(makeNodes(30)));
    const peers = plan.steps
      .flatMap((s) => s.actions)
      .flatMap((a) => (a.kind === "BGPPeer" && a.verb !== "delete" ? [a.object] : []));
    expect(peers.length).toBeGreaterThan(0);
    for (const peer of peers) {
      expect(() => parseCalicoSelector(peer.spec.nodeSelector)).not.toThrow();
      expect(() => parseCalicoSelector(peer.spec.peerSelector)).not.toThrow();
      expect(peer.metadata.labels["app.kubernetes.io/managed-by"]).toBe("rrfleet");
    }
  });

  it("replaces a deleted reflector make-before-break, changing one reflector per client per step", () => {
    const { final: converged } = run(makeCluster(makeNodes(90)), policy({ min: 4, max: 4 }));
    const lost = converged.nodes.find((n) => n.routeReflectorClusterId !== undefined)!;
    const after = { ...converged, nodes: converged.nodes.filter((n) => n !== lost) };
    const { plan, states, final } = run(after, policy({ min: 4, max: 4 }));
    expect(plan.decisions).toContainEqual(
      expect.objectContaining({ kind: "promote", reason: "ZoneBelowTarget" }),
    );
    const reasons = plan.steps.map((s) => s.reason);
    expect(reasons.indexOf("PromoteReflectors")).toBeLessThan(
      reasons.indexOf("RemoveClientPeerings"),
    );
    expectEveryStepSafe(states);
    for (let i = 1; i < states.length; i++) {
      for (const [client, changes] of countReflectorChanges(states[i - 1]!, states[i]!)) {
        expect(
          changes,
          `${client} in step ${i}: ${plan.steps[i - 1]?.description ?? ""}`,
        ).toBeLessThanOrEqual(1);
      }
    }
    expect(findMissingRoutes(viewRoutes(final))).toEqual({ pairs: 0 });
  });

  it("does nothing while a NotReady reflector is within its grace period, and replaces it after", () => {
    const { final: converged } = run(makeCluster(makeNodes(40)), policy({ min: 3, max: 3 }));
    const rr = converged.nodes.find((n) => n.routeReflectorClusterId !== undefined)!;
    const down = (since: string) => ({
      ...converged,
      nodes: converged.nodes.map((n) =>
        n === rr ? { ...n, ready: false, readyTransitionTime: since } : n,
      ),
    });
    const within = run(down("2026-06-01T11:58:00Z"), policy({ min: 3, max: 3 })).plan;
    expect(within.steps).toEqual([]);
    // NOW is 12:00; NotReady since 11:58 with the default 300 s grace: plan again at 12:03.
    expect(within.summary.replanAt).toBe("2026-06-01T12:03:00.000Z");
    const later = run(down("2026-06-01T11:00:00Z"), policy({ min: 3, max: 3 }));
    expect(later.plan.decisions).toContainEqual(
      expect.objectContaining({ kind: "demote", node: rr.name, reason: "NotReadyPastGrace" }),
    );
    expectEveryStepSafe(later.states);
  });

  it("turns the mesh back on first when no reflector can serve", () => {
    const { final: converged } = run(makeCluster(makeNodes(3, ["a"])), policy({ min: 3, max: 3 }));
    const allDown = {
      ...converged,
      nodes: converged.nodes.map((n) => ({
        ...n,
        ready: false,
        readyTransitionTime: "2026-06-01T10:00:00Z",
      })),
    };
    const { plan } = run(allDown, policy({ min: 3, max: 3 }));
    expect(plan.steps[0]?.reason).toBe("EnableNodeMesh");
    expect(plan.decisions).toContainEqual(
      expect.objectContaining({ kind: "mesh", enabled: true, reason: "NoReflectorCanServe" }),
    );
  });

  it("turns the mesh back on first when every reflector node is deleted, and off again once new ones serve", () => {
    const { final: converged } = run(makeCluster(makeNodes(30)), policy({ min: 3, max: 3 }));
    const gone = {
      ...converged,
      nodes: converged.nodes.filter((n) => n.routeReflectorClusterId === undefined),
    };
    const { plan, states, final } = run(gone, policy({ min: 3, max: 3 }));
    const reasons = plan.steps.map((s) => s.reason);
    expect(reasons[0]).toBe("EnableNodeMesh");
    expect(reasons).toContain("PromoteReflectors");
    expect(reasons.indexOf("DisableNodeMesh")).toBeGreaterThan(
      reasons.indexOf("PromoteReflectors"),
    );
    expect(plan.decisions).toContainEqual(
      expect.objectContaining({ kind: "mesh", enabled: false, reason: "NoReflectorServesYet" }),
    );
    expect(final.bgpConfiguration.nodeToNodeMeshEnabled).toBe(false);
    expect(findMissingRoutes(viewRoutes(final))).toEqual({ pairs: 0 });
    expectEveryStepSafe(states.slice(1)); // from the mesh coming back on
  });

  it("drops nodeMeshPassword in the same write that turns the mesh off (Calico 3.32 rejects it otherwise)", () => {
    const cluster: ClusterSnapshot = {
      ...makeCluster(makeNodes(10)),
      bgpConfiguration: {
        exists: true,
        nodeToNodeMeshEnabled: true,
        specFields: ["asNumber", "nodeMeshPassword", "nodeToNodeMeshEnabled"],
      },
    };
    const meshOff = run(cluster).plan.steps.find((s) => s.reason === "DisableNodeMesh");
    expect(meshOff?.actions[0]).toEqual({
      verb: "patch",
      kind: "BGPConfiguration",
      name: "default",
      patch: { spec: { nodeToNodeMeshEnabled: false, nodeMeshPassword: null } },
    });
  });

  it("writes BGPPeers in the API group the cluster serves", () => {
    const cluster: ClusterSnapshot = {
      ...makeCluster(makeNodes(10)),
      calicoApiVersion: "projectcalico.org/v3",
    };
    const created = run(cluster)
      .plan.steps.flatMap((s) => s.actions)
      .find((a) => a.kind === "BGPPeer" && a.verb === "create");
    expect(
      created?.kind === "BGPPeer" && created.verb !== "delete"
        ? created.object.apiVersion
        : undefined,
    ).toBe("projectcalico.org/v3");
  });

  it("leaves foreign BGPPeers and labels alone and restores a deleted rrfleet BGPPeer", () => {
    const foreign = makeForeignPeer("peer-with-tor", { peerIP: "192.0.2.1", asNumber: 65001 });
    const nodes = makeNodes(30).map((n) => ({ ...n, labels: { ...n.labels, team: "payments" } }));
    const { final } = run(makeCluster(nodes, { bgpPeers: [foreign] }));
    expect(final.bgpPeers).toContainEqual(foreign);
    expect(final.nodes.every((n) => n.labels["team"] === "payments")).toBe(true);
    const withoutOne = {
      ...final,
      bgpPeers: final.bgpPeers.filter((p) => p.name !== "rrfleet-reflector-1"),
    };
    const repair = run(withoutOne).plan;
    expect(repair.steps.flatMap((s) => s.actions)).toEqual([
      expect.objectContaining({ verb: "create", kind: "BGPPeer" }),
    ]);
  });

  it("adopts reflectors people made by hand (the Calico recipe) without losing a route", () => {
    const nodes = [
      ...makeNodes(20, ["a"]),
      makeNode("manual-1")
        .inZone("a")
        .reflector("244.0.0.1")
        .withLabels({ "route-reflector": "true" })
        .build(),
      makeNode("manual-2")
        .inZone("a")
        .reflector("244.0.0.1")
        .withLabels({ "route-reflector": "true" })
        .build(),
    ];
    const recipe = makeForeignPeer("peer-with-route-reflectors", {
      nodeSelector: "all()",
      peerSelector: "route-reflector == 'true'",
    });
    const { plan, states } = run(
      makeCluster(nodes, { mesh: false, bgpPeers: [recipe] }),
      policy({ min: 2, max: 2 }),
    );
    expect(plan.routeReflectors.map((r) => r.node).sort()).toEqual(["manual-1", "manual-2"]);
    expectEveryStepSafe(states);
    expect(plan.summary.analysis.verdict).not.toBe("Unsafe");
  });

  for (const topology of ["multi", "zoned"] as const) {
    it(`adopts a fresh ${topology} cluster with a bootstrap BGPPeer: promotions land one by one in any order, the bootstrap goes with the mesh`, () => {
      const cluster = makeCluster(makeNodes(60));
      const p = policy({ topology, ratio: 0.05, reflectorsPerNode: 1 });
      const { plan, final } = run(cluster, p);
      expect(plan.steps.map((s) => [s.reason, s.inAnyOrder])).toEqual([
        ["PrepareReflectors", true],
        ["PromoteReflectors", true],
        ["DisableNodeMesh", true],
      ]);
      const [prepare, promote, meshOff] = plan.steps;
      const bootstrap = prepare?.actions.find(
        (a) =>
          a.kind === "BGPPeer" &&
          a.verb === "create" &&
          a.object.metadata.name === BOOTSTRAP_PEER_NAME,
      );
      expect(
        bootstrap?.kind === "BGPPeer" && bootstrap.verb === "create" && bootstrap.object.spec,
      ).toEqual({
        nodeSelector: "all()",
        peerSelector: "has(rrfleet.io/reflector)",
      });
      expect(promote?.actions).toHaveLength(plan.routeReflectors.length);
      // No BGPConfiguration yet (Calico's defaults): the mesh write creates it.
      expect(meshOff?.actions.map((a) => [a.kind, a.verb])).toEqual([
        ["BGPConfiguration", "create"],
        ["BGPPeer", "delete"],
      ]);
      expectEveryPrefixSafe(cluster, plan);
      // Every state on the way holds at most R + 2 rrfleet BGPPeers; none is left over.
      let state = cluster;
      for (const step of plan.steps) {
        for (const s of simulateActions(state, step.actions))
          expect(s.bgpPeers.filter((b) => isOwnedByRrfleet(b.labels)).length).toBeLessThanOrEqual(
            plan.summary.reflectors + 2,
          );
        state = simulateActions(state, step.actions).at(-1) ?? state;
      }
      expect(final.bgpPeers.map((b) => b.name)).not.toContain(BOOTSTRAP_PEER_NAME);
      expect(planCluster(final, p, NOW).steps).toEqual([]);
    });
  }

  it("adopts a fresh single cluster without a bootstrap: every client already peers every reflector", () => {
    const cluster = makeCluster(makeNodes(30));
    const { plan } = run(cluster, policy({ topology: "single", min: 3, max: 3 }));
    const written = plan.steps
      .flatMap((s) => s.actions)
      .flatMap((a) =>
        a.kind === "BGPPeer" && a.verb !== "delete" ? [a.object.metadata.name] : [],
      );
    expect(written).not.toContain(BOOTSTRAP_PEER_NAME);
    expect(plan.steps.find((s) => s.reason === "PromoteReflectors")?.inAnyOrder).toBe(true);
    expectEveryPrefixSafe(cluster, plan);
  });

  it("gives leaving reflectors that shadow designed cluster IDs IDs of their own, so they can go one at a time", () => {
    // n002 shares 244.0.0.2 with n000 and n004 shares 244.0.0.1 with n001 (both kept); each
    // leaving one reflects the other's routes across the racks, so neither can go first as is.
    const rack = (name: string, r: string) =>
      makeNode(name).inZone("a").withLabels({ rack: r }).createdAt("2026-06-01T12:00:00Z");
    const cluster = makeCluster(
      [
        rack("n000", "r3").reflector("244.0.0.2"),
        rack("n001", "r1").reflector("244.0.0.1"),
        rack("n002", "r1").reflector("244.0.0.2"),
        rack("n003", "r1"),
        rack("n004", "r2").reflector("244.0.0.1"),
        rack("n005", "r1"),
      ],
      {
        mesh: false,
        bgpPeers: [
          makeForeignPeer("rack-r1-r2", {
            nodeSelector: "rack == 'r1'",
            peerSelector: "rack == 'r2'",
          }),
        ],
      },
    );
    const p = policy({ topology: "multi", min: 2, max: 2, reflectorsPerNode: 1 });
    const { plan, final } = run(cluster, p);
    expect(plan.steps.map((s) => s.description)).toContainEqual(
      expect.stringContaining("a cluster ID of its own"),
    );
    expectEveryPrefixSafe(cluster, plan);
    expect(findMissingRoutes(viewRoutes(final))).toEqual({ pairs: 0 });
    expect(planCluster(final, p, NOW).steps).toEqual([]);
  });

  it("peers leaving reflectors that need each other with every node while the mesh is on, so they can go one at a time", () => {
    // The mesh comes back on (the designed reflector is NotReady); n000 and n004 share a cluster
    // ID and each is the other's only way to the nodes of the other rack.
    const rack = (name: string, r: string) =>
      makeNode(name).withLabels({ rack: r }).createdAt("2026-06-01T12:00:00Z");
    const cluster = makeCluster(
      [
        rack("n000", "r2").inZone("a").reflector("244.0.0.1"),
        rack("n001", "r1"),
        rack("n002", "r1").notReady("2026-06-01T11:59:00Z").reflector("244.0.0.1"),
        rack("n003", "r2").inZone("b"),
        rack("n004", "r1").inZone("a").reflector("244.0.0.1"),
      ],
      {
        mesh: false,
        bgpPeers: [
          makeForeignPeer("rack-r1-r2", {
            nodeSelector: "rack == 'r1'",
            peerSelector: "rack == 'r2'",
          }),
        ],
      },
    );
    const { plan } = run(cluster, policy({ topology: "single", min: 1, max: 1 }));
    expect(plan.steps.map((s) => s.description)).toContainEqual(
      expect.stringContaining("with every node so they can go one by one"),
    );
    expectEveryPrefixSafe(cluster, plan);
    expect(plan.summary.analysis.refusedStep).toBeUndefined();
  });
});
