import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ClusterSnapshot, NodeInfo } from "../model/cluster.js";
import { isValidClusterId } from "../model/ipv4.js";
import { tryParseCalicoSelector } from "../selectors/calico-selector.js";
import { DEFAULT_POLICY } from "../policy/policy.js";
import { planCluster } from "../plan/plan-cluster.js";
import {
  ARBITRARY_NOW,
  arbitraryCluster,
  arbitraryPolicy,
  makeCluster,
  makeForeignPeer,
  makeNode,
  makeNodes,
  simulateSteps,
} from "../testing/index.js";
import { findSessionsToConfirm } from "./find-sessions-to-confirm.js";

const toRack = (name: string, nodeSelector: string, peerSelector: string) =>
  makeForeignPeer(name, { nodeSelector, peerSelector });

const pairs = (...list: [string, string][]) => list.map(([node, peer]) => ({ node, peer }));

describe("findSessionsToConfirm", () => {
  const plain = [makeNode("a"), makeNode("b"), makeNode("c")];
  const cases: {
    name: string;
    before: ClusterSnapshot;
    after: ClusterSnapshot;
    want: { node: string; peer: string }[];
  }[] = [
    {
      name: "nothing changed: nothing to confirm",
      before: makeCluster(plain),
      after: makeCluster(plain),
      want: [],
    },
    {
      name: "the mesh comes on: every Ready pair of non-reflectors, each once, sorted",
      before: makeCluster([makeNode("c"), makeNode("a"), makeNode("b")], { mesh: false }),
      after: makeCluster([makeNode("c"), makeNode("a"), makeNode("b")], { mesh: true }),
      want: pairs(["a", "b"], ["a", "c"], ["b", "c"]),
    },
    {
      name: "the mesh goes off: sessions only go, nothing to confirm",
      before: makeCluster(plain, { mesh: true }),
      after: makeCluster(plain, { mesh: false }),
      want: [],
    },
    {
      name: "a new BGPPeer: the pairs it selects, not the ones the mesh already had",
      before: makeCluster(
        [makeNode("rr").withLabels({ rack: "1" }), makeNode("x").withLabels({ rack: "2" })],
        { mesh: false },
      ),
      after: makeCluster(
        [makeNode("rr").withLabels({ rack: "1" }), makeNode("x").withLabels({ rack: "2" })],
        { mesh: false, bgpPeers: [toRack("p", "rack == '1'", "rack == '2'")] },
      ),
      want: pairs(["rr", "x"]),
    },
    {
      name: "a client labelled into a reflector's peering gets that session; its mesh sessions stay",
      before: makeCluster(
        [makeNode("r").withLabels({ rr: "" }).reflector("244.0.0.1"), makeNode("a"), makeNode("b")],
        { bgpPeers: [toRack("p", "has(client)", "has(rr)")] },
      ),
      after: makeCluster(
        [
          makeNode("r").withLabels({ rr: "" }).reflector("244.0.0.1"),
          makeNode("a").withLabels({ client: "" }),
          makeNode("b"),
        ],
        { bgpPeers: [toRack("p", "has(client)", "has(rr)")] },
      ),
      want: pairs(["a", "r"]),
    },
    {
      name: "a promotion restarts every session of the promoted node, old or new",
      before: makeCluster([makeNode("r").withLabels({ rr: "" }), makeNode("a"), makeNode("b")], {
        mesh: false,
        bgpPeers: [toRack("p", "all()", "has(rr)")],
      }),
      after: makeCluster(
        [makeNode("r").withLabels({ rr: "" }).reflector("244.0.0.1"), makeNode("a"), makeNode("b")],
        { mesh: false, bgpPeers: [toRack("p", "all()", "has(rr)")] },
      ),
      want: pairs(["a", "r"], ["b", "r"]),
    },
    {
      name: "a new cluster ID counts as a role change; an invalid one counts as none",
      before: makeCluster(
        [
          makeNode("r").withLabels({ rr: "" }).reflector("244.0.0.1"),
          makeNode("a").reflector("not-an-ip"),
        ],
        { mesh: false, bgpPeers: [toRack("p", "all()", "has(rr)")] },
      ),
      after: makeCluster(
        [
          makeNode("r").withLabels({ rr: "" }).reflector("244.0.0.2"),
          makeNode("a").reflector("nor-this"),
        ],
        { mesh: false, bgpPeers: [toRack("p", "all()", "has(rr)")] },
      ),
      want: pairs(["a", "r"]),
    },
    {
      name: "NotReady nodes have no sessions to confirm; one Ready again has all of its",
      before: makeCluster([makeNode("a"), makeNode("b").notReady(), makeNode("c")]),
      after: makeCluster([makeNode("a"), makeNode("b"), makeNode("c").notReady()]),
      want: pairs(["a", "b"]),
    },
    {
      name: "a node that joined: all its sessions",
      before: makeCluster([makeNode("a"), makeNode("b")]),
      after: makeCluster([makeNode("a"), makeNode("b"), makeNode("0-new")]),
      want: pairs(["0-new", "a"], ["0-new", "b"]),
    },
    {
      name: "a BGPPeer to an IP outside the cluster connects no nodes",
      before: makeCluster(plain, { mesh: false }),
      after: makeCluster(plain, {
        mesh: false,
        bgpPeers: [makeForeignPeer("tor", { peerIP: "192.0.2.1", asNumber: 65000 })],
      }),
      want: [],
    },
  ];

  for (const { name, before, after, want } of cases) {
    it(name, () => {
      expect(findSessionsToConfirm(before, after)).toEqual(want);
    });
  }

  it("after a fresh cluster's promotion step, lists every session of every promoted reflector", () => {
    const cluster = makeCluster(makeNodes(12));
    const policy = { ...DEFAULT_POLICY, topology: "multi" as const, min: 3, max: 3 };
    const plan = planCluster(cluster, policy, new Date("2026-06-01T12:00:00Z"));
    const promote = plan.steps.findIndex((s) => s.reason === "PromoteReflectors");
    expect(promote).toBeGreaterThan(0);
    const states = simulateSteps(cluster, plan.steps);
    const found = findSessionsToConfirm(states[promote]!, states[promote + 1]!);
    const reflectors = new Set(plan.routeReflectors.map((r) => r.node));
    // The bootstrap BGPPeer peers each reflector with all 11 other nodes.
    expect(found).toHaveLength(3 * 11 - 3);
    for (const { node, peer } of found) {
      expect(node < peer).toBe(true);
      expect(reflectors.has(node) || reflectors.has(peer)).toBe(true);
    }
  });

  it("agrees with a pair-by-pair reading of the selectors on every step of random plans", () => {
    fc.assert(
      fc.property(
        arbitraryCluster({ existingReflectors: true, foreignPeers: true, meshOff: true }),
        arbitraryPolicy(),
        (cluster, policy) => {
          const states = simulateSteps(cluster, planCluster(cluster, policy, ARBITRARY_NOW).steps);
          for (let i = 1; i < states.length; i++) {
            const before = states[i - 1]!;
            const after = states[i]!;
            expect(findSessionsToConfirm(before, after)).toEqual(
              findSessionsToConfirmSlowly(before, after),
            );
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

/** The definition, pair by pair, without classes or signatures. */
function findSessionsToConfirmSlowly(
  before: ClusterSnapshot,
  after: ClusterSnapshot,
): { node: string; peer: string }[] {
  const role = (node: NodeInfo) =>
    isValidClusterId(node.routeReflectorClusterId) ? node.routeReflectorClusterId : undefined;
  const peers = (state: ClusterSnapshot, a: NodeInfo, b: NodeInfo): boolean => {
    if (!a.ready || !b.ready) return false;
    if (
      state.bgpConfiguration.nodeToNodeMeshEnabled &&
      role(a) === undefined &&
      role(b) === undefined
    )
      return true;
    return state.bgpPeers.some((p) => {
      if (p.peerSelector === undefined) return false;
      const other = tryParseCalicoSelector(p.peerSelector);
      if (other === undefined) return false;
      const side =
        p.node !== undefined
          ? (n: NodeInfo) => n.name === p.node
          : (() => {
              const s = tryParseCalicoSelector(p.nodeSelector ?? "all()");
              return (n: NodeInfo) => s?.matches(n.labels) === true;
            })();
      if (p.node === undefined && tryParseCalicoSelector(p.nodeSelector ?? "all()") === undefined)
        return false;
      return (side(a) && other.matches(b.labels)) || (side(b) && other.matches(a.labels));
    });
  };
  const byName = new Map(before.nodes.map((n) => [n.name, n]));
  const result: { node: string; peer: string }[] = [];
  const nodes = [...after.nodes].sort((x, y) => (x.name < y.name ? -1 : 1));
  nodes.forEach((a, i) => {
    for (const b of nodes.slice(i + 1)) {
      if (!peers(after, a, b)) continue;
      const oldA = byName.get(a.name);
      const oldB = byName.get(b.name);
      const existed = oldA !== undefined && oldB !== undefined && peers(before, oldA, oldB);
      const changed =
        (oldA !== undefined && role(oldA) !== role(a)) ||
        (oldB !== undefined && role(oldB) !== role(b));
      if (!existed || changed) result.push({ node: a.name, peer: b.name });
    }
  });
  return result;
}
