import {
  DEFAULT_POLICY,
  planCluster,
  readPeerKeys,
  REFLECTOR_LABEL,
  type ClusterSnapshot,
  type Policy,
} from "@rrfleet/topology-core";
import {
  makeCluster,
  makeForeignPeer,
  makeNode,
  makeNodes,
  simulateSteps,
} from "@rrfleet/topology-core/testing";
import { describe, expect, it } from "vitest";
import { buildClusterView, MAX_PEER_EDGES } from "./build-cluster-view.js";

const NOW = Date.parse("2026-11-28T00:00:00Z");

/** The cluster after applying every step of its plan. */
function converge(snapshot: ClusterSnapshot, policy: Policy = DEFAULT_POLICY): ClusterSnapshot {
  const plan = planCluster(snapshot, policy, new Date(NOW));
  return simulateSteps(snapshot, plan.steps).at(-1) ?? snapshot;
}

function viewOf(snapshot: ClusterSnapshot, policy: Policy = DEFAULT_POLICY) {
  return buildClusterView({
    name: "c1",
    snapshot,
    policy,
    plan: planCluster(snapshot, policy, new Date(NOW)),
    now: NOW,
  });
}

/**
 * Client groups as a person would count them from the labels alone: non-reflector nodes by
 * zone and by the reflectors their `rrfleet.io/peer-<key>` labels name.
 */
function groupsFromLabels(snapshot: ClusterSnapshot): Map<string, number> {
  const reflectorOfKey = new Map<string, string>();
  for (const node of snapshot.nodes) {
    const key = node.labels[REFLECTOR_LABEL];
    if (key !== undefined) reflectorOfKey.set(key, node.name);
  }
  const groups = new Map<string, number>();
  for (const node of snapshot.nodes) {
    if (node.labels[REFLECTOR_LABEL] !== undefined) continue;
    const zone = node.labels["topology.kubernetes.io/zone"] ?? "(none)";
    const reflectors = readPeerKeys(node.labels)
      .map((key) => reflectorOfKey.get(key) ?? `?${key}`)
      .sort();
    const id = `${zone} ${reflectors.join(",")}`;
    groups.set(id, (groups.get(id) ?? 0) + 1);
  }
  return groups;
}

describe("buildClusterView", () => {
  it("groups a converged cluster's clients by zone and reflector set, as their labels say", () => {
    const snapshot = converge(makeCluster(makeNodes(300, ["a", "b", "c"])));
    const view = viewOf(snapshot);
    const want = groupsFromLabels(snapshot);

    expect(view.meshEnabled).toBe(false);
    expect(view.counts).toMatchObject({ nodes: 300, readyNodes: 300, zones: 3, reflectors: 3 });
    expect(view.counts.clientGroups).toBe(want.size);
    expect(
      new Map(view.groups.map((g) => [`${g.zone} ${g.reflectors.join(",")}`, g.size])),
    ).toEqual(want);
    // Every client is in exactly one group; each reflector's clients are its edges' sessions.
    expect(view.groups.reduce((n, g) => n + g.size, 0)).toBe(297);
    for (const reflector of view.reflectors) {
      const sessions = view.edges
        .filter((e) => e.kind === "client" && e.target === reflector.id)
        .reduce((n, e) => n + e.sessions, 0);
      expect(sessions).toBe(reflector.clients);
      expect(reflector.key).toBeDefined();
    }
    // multi: the reflectors are meshed with each other.
    expect(view.edges.filter((e) => e.kind === "reflector")).toHaveLength(3);
    expect(view.plan).toMatchObject({ converged: true, steps: 0, verdict: "Safe" });
    expect(view.plan.nextStep).toBeUndefined();
  });

  it("draws a 5,000-node cluster as a few dozen elements, not 5,000", () => {
    const snapshot = converge(makeCluster(makeNodes(5000, ["a", "b", "c"])));
    const view = viewOf(snapshot);
    const elements =
      view.zones.length + view.reflectors.length + view.groups.length + view.edges.length;
    console.log(
      `status page: 5,000 nodes → ${view.groups.length} client groups, ${view.reflectors.length} reflectors, ${elements} elements`,
    );
    expect(view.groups.reduce((n, g) => n + g.size, 0)).toBe(5000 - view.reflectors.length);
    expect(elements).toBeLessThan(300);
    expect(view.groups.every((g) => g.sample.length <= 5)).toBe(true);
  });

  it("shows a fresh cluster as mesh only, with the first plan step and its reasons", () => {
    const snapshot = makeCluster(makeNodes(30, ["a", "b"]));
    const view = viewOf(snapshot);
    expect(view.meshEnabled).toBe(true);
    expect(view.counts).toMatchObject({ reflectors: 0, zones: 2, clientGroups: 2 });
    expect(view.counts.sessions).toBe((30 * 29) / 2);
    // The mesh is a flag, not 435 edges.
    expect(view.edges).toEqual([]);
    expect(view.groups.map((g) => [g.zone, g.size, g.reflectors])).toEqual([
      ["a", 15, []],
      ["b", 15, []],
    ]);
    const plan = planCluster(snapshot, DEFAULT_POLICY, new Date(NOW));
    expect(view.plan.nextStep).toMatchObject({
      reason: plan.steps[0]?.reason,
      description: plan.steps[0]?.description,
      actions: plan.steps[0]?.actions.length,
      ofSteps: plan.steps.length,
    });
    expect(view.plan.nextStep?.actionCounts.reduce((n, c) => n + c.count, 0)).toBe(
      plan.steps[0]?.actions.length,
    );
    expect(view.plan.decisions.filter((d) => d.kind === "promote")).toHaveLength(3);
    expect(view.plan.decisions.every((d) => /^[A-Z][A-Za-z]+$/.test(d.reason))).toBe(true);
  });

  it("keeps nodes with the same sessions in one group mid-plan, whatever their labels", () => {
    const fresh = makeCluster(makeNodes(90, ["a", "b", "c"]));
    const plan = planCluster(fresh, DEFAULT_POLICY, new Date(NOW));
    const promoteAt = plan.steps.findIndex((s) => s.reason === "PromoteReflectors");
    expect(promoteAt).toBeGreaterThan(0);
    // Reflectors promoted, the bootstrap peer still there: every client peers every reflector,
    // although its client labels already name two of them.
    const midway = simulateSteps(fresh, plan.steps.slice(0, promoteAt + 1)).at(-1) ?? fresh;
    const view = viewOf(midway);
    expect(view.meshEnabled).toBe(true);
    expect(groupsFromLabels(midway).size).toBeGreaterThan(3);
    expect(view.groups.map((g) => [g.zone, g.size, g.reflectors.length])).toEqual([
      ["a", 29, 3],
      ["b", 29, 3],
      ["c", 29, 3],
    ]);
  });

  it("marks NotReady nodes and reflectors, and keeps them in their groups", () => {
    const converged = converge(makeCluster(makeNodes(60, ["a", "b", "c"])));
    const reflector = converged.nodes.find((n) => n.labels[REFLECTOR_LABEL] !== undefined);
    const client = converged.nodes.find((n) => n.labels[REFLECTOR_LABEL] === undefined);
    const snapshot: ClusterSnapshot = {
      ...converged,
      nodes: converged.nodes.map((n) =>
        n.name === reflector?.name || n.name === client?.name
          ? { ...n, ready: false, readyTransitionTime: "2026-11-27T23:59:00Z" }
          : n,
      ),
    };
    const view = viewOf(snapshot);
    expect(view.counts).toMatchObject({ nodes: 60, readyNodes: 58, reflectors: 3 });
    expect(view.reflectors.find((r) => r.node === reflector?.name)?.ready).toBe(false);
    const group = view.groups.find((g) => g.sample.includes(client?.name ?? "") || g.size > 5);
    expect(view.groups.reduce((n, g) => n + g.size - g.readyNodes, 0)).toBe(1);
    expect(group).toBeDefined();
  });

  it("draws sessions rrfleet did not design as peer edges, and caps them", () => {
    const nodes = makeNodes(12, ["a", "b"]);
    const snapshot = makeCluster(nodes, {
      mesh: false,
      bgpPeers: [makeForeignPeer("tor", { nodeSelector: "all()", peerSelector: "all()" })],
    });
    const view = viewOf(snapshot);
    // One class (every node peers every node), split into two zones: one edge between them.
    expect(view.groups).toHaveLength(2);
    expect(view.edges).toEqual([expect.objectContaining({ kind: "peer", sessions: 36 })]);
    expect(view.omittedEdges).toBe(0);
    expect(MAX_PEER_EDGES).toBeGreaterThan(0);
  });

  it("names groups with a stable id and never two groups alike", () => {
    const snapshot = converge(
      makeCluster([...makeNodes(40, ["a", "b"]), makeNode("zoneless").build()]),
    );
    const view = viewOf(snapshot);
    const ids = view.groups.map((g) => g.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(viewOf(snapshot).groups.map((g) => g.id)).toEqual(ids);
    expect(view.zones.map((z) => z.name)).toEqual(["(none)", "a", "b"]);
  });
});
