import { describe, expect, it } from "vitest";
import type { ClusterSnapshot } from "../model/cluster.js";
import { makeCluster, makeForeignPeer, makeNode } from "../testing/index.js";
import { findLostRoutes, viewRoutes } from "./reachability-report.js";
import { findSessionsToConfirm, viewTransition } from "./session-transition.js";

/** Clients peering with nodes labelled `rr`, as one BGPPeer (Calico adds the reverse sessions). */
const toReflectors = makeForeignPeer("to-reflectors", {
  nodeSelector: "has(client)",
  peerSelector: "has(rr)",
});
const reflector = (name: string, clusterId?: string) => {
  const node = makeNode(name).withLabels({ rr: "" });
  return clusterId === undefined ? node : node.reflector(clusterId);
};
const client = (name: string) => makeNode(name).withLabels({ client: "" });

/** Mesh on, nodes `names` plus reflector r and x, which stops being r's client. */
function clientLeavesWithMeshOn(names: readonly string[]) {
  const nodes = names.map((n) => makeNode(n));
  const state = (x: ReturnType<typeof makeNode>) =>
    makeCluster([...nodes, reflector("r", "244.0.0.1"), x], {
      mesh: true,
      bgpPeers: [toReflectors],
    });
  return { before: state(client("x")), after: state(makeNode("x")) };
}

function transition(before: ClusterSnapshot, after: ClusterSnapshot) {
  const v0 = viewRoutes(before);
  const v1 = viewRoutes(after);
  const t = viewTransition(v0, v1);
  return {
    lost: findLostRoutes(v0, t).pairs,
    removesSessions: t.removesSessions,
    confirm: findSessionsToConfirm(v0, v1).sessions.map(
      (s) => `${s.node}-${s.peer}:${s.kinds.join("+")}`,
    ),
  };
}

describe("viewTransition and findSessionsToConfirm (real BGP between two states)", () => {
  it("changes nothing: nothing removed, nothing to confirm", () => {
    const state = makeCluster([client("a"), client("b")]);
    expect(transition(state, state)).toEqual({ lost: 0, removesSessions: false, confirm: [] });
  });

  it("mesh off once reflector sessions carry every route: confirm those sessions first, lose nothing", () => {
    const nodes = [reflector("r", "244.0.0.1"), client("a"), client("b")];
    const before = makeCluster(nodes, { mesh: true, bgpPeers: [toReflectors] });
    const after = makeCluster(nodes, { mesh: false, bgpPeers: [toReflectors] });
    expect(transition(before, after)).toEqual({
      lost: 0,
      removesSessions: true,
      confirm: ["a-r:peer", "b-r:peer"],
    });
  });

  it("mesh off in the same step that opens the reflector sessions: the new sessions are down meanwhile", () => {
    const before = makeCluster([reflector("r", "244.0.0.1"), makeNode("a"), makeNode("b")], {
      mesh: true,
      bgpPeers: [toReflectors],
    });
    const after = makeCluster([reflector("r", "244.0.0.1"), client("a"), client("b")], {
      mesh: false,
      bgpPeers: [toReflectors],
    });
    // The end state reaches everyone; the transition does not (a and b only had the mesh).
    expect(findLostRoutes(viewRoutes(before), viewRoutes(after)).pairs).toBe(0);
    expect(transition(before, after).lost).toBeGreaterThan(0);
  });

  it("an explicit session next to a mesh session (pre-peering a reflector not promoted yet) adds a protocol and restarts nothing", () => {
    const before = makeCluster([reflector("r"), makeNode("a"), makeNode("b")], {
      bgpPeers: [toReflectors],
    });
    const after = makeCluster([reflector("r"), client("a"), makeNode("b")], {
      bgpPeers: [toReflectors],
    });
    expect(transition(before, after)).toEqual({ lost: 0, removesSessions: false, confirm: [] });
  });

  it("promoting a node restarts all of its sessions: its own routes are exempt, nobody else may lose any", () => {
    const before = makeCluster([reflector("r"), client("a"), makeNode("b")], {
      bgpPeers: [toReflectors],
    });
    const after = makeCluster([reflector("r", "244.0.0.1"), client("a"), makeNode("b")], {
      bgpPeers: [toReflectors],
    });
    const result = transition(before, after);
    expect(result.lost).toBe(0);
    expect(result.removesSessions).toBe(true);
    // a–r had both protocols (the mesh and the BGPPeer) and r's role changes: not stable.
    expect(result.confirm).toEqual(["a-b:mesh"]);
  });

  it("losing one of two protocols to a neighbour restarts the session: the one left may be the Idle one", () => {
    const both = makeCluster([reflector("r"), client("a")], { bgpPeers: [toReflectors] });
    const meshOnly = makeCluster([reflector("r"), client("a")], { bgpPeers: [] });
    const result = transition(both, meshOnly);
    expect(result.removesSessions).toBe(true);
    expect(result.lost).toBe(2); // a and r only had each other
    expect(result.confirm).toEqual([]);
  });

  it("confirms mesh-only sessions for a sample of nodes, not all N² of them", () => {
    const { before, after } = clientLeavesWithMeshOn(["a", "b", "c", "d", "e"]);
    const relied = findSessionsToConfirm(viewRoutes(before), viewRoutes(after), {
      meshSampleNodes: 1,
    });
    expect(relied.removesSessions).toBe(true);
    expect(relied.sessions.map((s) => `${s.node}-${s.peer}`)).toEqual([
      "a-b",
      "a-c",
      "a-d",
      "a-e",
      "a-x",
    ]);
    expect(relied.sampledOut).toBe(10);
  });

  it("mesh off: every client hands its mesh routes over to the reflector sessions it keeps", () => {
    const nodes = [reflector("r", "244.0.0.1"), client("a"), client("b")];
    const before = makeCluster(nodes, { mesh: true, bgpPeers: [toReflectors] });
    const after = makeCluster(nodes, { mesh: false, bgpPeers: [toReflectors] });
    const relied = findSessionsToConfirm(viewRoutes(before), viewRoutes(after));
    expect(relied.handovers).toEqual([
      { node: "a", keeps: [{ peer: "r", kinds: ["peer"] }] },
      { node: "b", keeps: [{ peer: "r", kinds: ["peer"] }] },
    ]);
    expect(relied.exempt).toEqual([]);
  });

  it("a reflector demoted: its clients hand over to the reflector they keep, and its own block is exempt", () => {
    const nodes = (second: string | undefined) => [
      reflector("r1", "244.0.0.1"),
      reflector("r2", second),
      client("a"),
    ];
    const before = makeCluster(nodes("244.0.0.1"), { mesh: false, bgpPeers: [toReflectors] });
    const after = makeCluster(nodes(undefined), { mesh: false, bgpPeers: [toReflectors] });
    const relied = findSessionsToConfirm(viewRoutes(before), viewRoutes(after));
    expect(relied.handovers.find((h) => h.node === "a")).toEqual({
      node: "a",
      keeps: [{ peer: "r1", kinds: ["peer"] }],
    });
    expect(relied.exempt).toEqual(["r2"]);
  });

  it("no handover for a node on the mesh (it keeps more sessions than a handover lists) or one that loses nothing", () => {
    const { before, after } = clientLeavesWithMeshOn(["a", "b", "c", "d"]);
    const relied = findSessionsToConfirm(viewRoutes(before), viewRoutes(after), {
      maxHandoverKeeps: 3,
    });
    expect(relied.removesSessions).toBe(true);
    expect(relied.handovers).toEqual([]);
    // With room for its four mesh peers, x (which loses its session to r) is one.
    const roomy = findSessionsToConfirm(viewRoutes(before), viewRoutes(after));
    expect(roomy.handovers.map((h) => `${h.node}:${h.keeps.length}`)).toEqual(["x:4"]);
  });
});
