import { describe, expect, it } from "vitest";
import { makeCluster, makeForeignPeer, makeNode } from "../testing/builders.js";
import { createAnalysisCache } from "./peerings.js";
import {
  findFragileReflectors,
  findLostRoutes,
  findMissingRoutes,
  viewRoutes,
} from "./reachability-report.js";

const rrPeer = (name: string, clients: string, reflectors: string) =>
  makeForeignPeer(name, { nodeSelector: clients, peerSelector: reflectors });

describe("reachability analysis", () => {
  it("the full mesh reaches every pair", () => {
    const view = viewRoutes(makeCluster([makeNode("a"), makeNode("b"), makeNode("c")]));
    expect(findMissingRoutes(view)).toEqual({ pairs: 0 });
  });

  it("a node that is a reflector leaves the mesh: without BGPPeers nobody hears it", () => {
    const view = viewRoutes(
      makeCluster([makeNode("a").reflector("244.0.0.1"), makeNode("b"), makeNode("c")]),
    );
    // a→b, a→c, b→a, c→a
    expect(findMissingRoutes(view).pairs).toBe(4);
  });

  it("with the mesh off, clients of one reflector reach each other through it", () => {
    const nodes = [
      makeNode("rr").reflector("244.0.0.1").withLabels({ rr: "yes" }),
      makeNode("c1"),
      makeNode("c2"),
      makeNode("c3"),
    ];
    const view = viewRoutes(
      makeCluster(nodes, { mesh: false, bgpPeers: [rrPeer("p", "!has(rr)", "has(rr)")] }),
    );
    expect(findMissingRoutes(view)).toEqual({ pairs: 0 });
  });

  it("reflectors sharing a cluster ID drop each other's reflections (clients must peer all of them)", () => {
    const nodes = [
      makeNode("rr1").reflector("244.0.0.1").withLabels({ rr: "1", reflector: "" }),
      makeNode("rr2").reflector("244.0.0.1").withLabels({ rr: "2", reflector: "" }),
      makeNode("c1").withLabels({ via: "1" }),
      makeNode("c2").withLabels({ via: "2" }),
    ];
    const peers = [
      rrPeer("to-1", "via == '1'", "rr == '1'"),
      rrPeer("to-2", "via == '2'", "rr == '2'"),
      rrPeer("mesh", "has(reflector)", "has(reflector)"),
    ];
    const sameId = viewRoutes(makeCluster(nodes, { mesh: false, bgpPeers: peers }));
    expect(findMissingRoutes(sameId).example).toBeDefined();

    const distinct = nodes.map((n) => (n.build().name === "rr2" ? n.reflector("244.0.0.2") : n));
    expect(
      findMissingRoutes(viewRoutes(makeCluster(distinct, { mesh: false, bgpPeers: peers }))),
    ).toEqual({ pairs: 0 });
  });

  it("ignores NotReady nodes and BGPPeers with invalid selectors, as Calico does", () => {
    const nodes = [
      makeNode("rr").reflector("244.0.0.1").withLabels({ rr: "yes" }),
      makeNode("c1"),
      makeNode("down").notReady(),
    ];
    const broken = viewRoutes(
      makeCluster(nodes, { mesh: false, bgpPeers: [rrPeer("p", "!has(rr", "has(rr)")] }),
    );
    expect(findMissingRoutes(broken).pairs).toBe(2);
    const fine = viewRoutes(
      makeCluster(nodes, { mesh: false, bgpPeers: [rrPeer("p", "!has(rr)", "has(rr)")] }),
    );
    expect(findMissingRoutes(fine)).toEqual({ pairs: 0 });
  });

  it("finds the reflector whose loss would cut routes", () => {
    const nodes = [
      makeNode("rr1").reflector("244.0.0.1").withLabels({ rr: "1", reflector: "" }),
      makeNode("rr2").reflector("244.0.0.2").withLabels({ rr: "2", reflector: "" }),
      makeNode("c1").withLabels({ via1: "" }),
      makeNode("c2").withLabels({ via1: "", via2: "" }),
    ];
    const peers = [
      rrPeer("to-1", "has(via1)", "rr == '1'"),
      rrPeer("to-2", "has(via2)", "rr == '2'"),
      rrPeer("mesh", "has(reflector)", "has(reflector)"),
    ];
    expect(
      findFragileReflectors(viewRoutes(makeCluster(nodes, { mesh: false, bgpPeers: peers }))),
    ).toEqual(["rr1"]);
  });

  it("counts the routes a change loses, over classes rather than node pairs", () => {
    const before = makeCluster([makeNode("a"), makeNode("b"), makeNode("c")]);
    const after = makeCluster([makeNode("a"), makeNode("b"), makeNode("c")], { mesh: false });
    expect(findLostRoutes(viewRoutes(before), viewRoutes(after))).toMatchObject({ pairs: 6 });
    expect(findLostRoutes(viewRoutes(after), viewRoutes(before))).toEqual({ pairs: 0 });
  });

  it("matches nodes by name when the two states differ in nodes (an observer's snapshots)", () => {
    const before = makeCluster([makeNode("a"), makeNode("b"), makeNode("c")]);
    const after = makeCluster([makeNode("new"), makeNode("c"), makeNode("a")], { mesh: false });
    // a and c, up in both, lose each other (2 routes); b and new are not in both.
    expect(findLostRoutes(viewRoutes(before), viewRoutes(after))).toMatchObject({ pairs: 2 });
    const same = makeCluster([makeNode("c"), makeNode("a")]);
    expect(findLostRoutes(viewRoutes(before), viewRoutes(same))).toEqual({ pairs: 0 });
  });

  it("derives a state's view from its predecessor's exactly as it builds one from scratch", () => {
    const peers = [
      rrPeer("to-rr", "has(client)", "has(rr)"),
      rrPeer("everyone", "all()", "has(rr)"),
      rrPeer("mesh", "has(rr)", "has(rr)"),
    ];
    const nodes = [
      makeNode("rr1").reflector("244.0.0.1").withLabels({ rr: "" }),
      makeNode("rr2").withLabels({ rr: "" }),
      makeNode("c1").withLabels({ client: "" }),
      makeNode("c2"),
      makeNode("c3").withLabels({ client: "" }),
    ];
    const start = makeCluster(nodes, { bgpPeers: peers });
    const cache = createAnalysisCache();
    const first = viewRoutes(start, cache);
    const cases = [
      {
        name: "a BGPPeer deleted (signatures translated), a node relabelled",
        state: {
          ...start,
          bgpPeers: peers.filter((p) => p.name !== "everyone"),
          nodes: start.nodes.map((n) =>
            n.name === "c2" ? { ...n, labels: { ...n.labels, client: "" } } : n,
          ),
        },
        changed: new Set([3]),
      },
      {
        name: "a node promoted, the mesh off",
        state: {
          ...start,
          bgpConfiguration: { ...start.bgpConfiguration, nodeToNodeMeshEnabled: false },
          nodes: start.nodes.map((n) =>
            n.name === "rr2" ? { ...n, routeReflectorClusterId: "244.0.0.2" } : n,
          ),
        },
        changed: new Set([1]),
      },
    ];
    for (const { name, state, changed } of cases) {
      const derived = viewRoutes(state, cache, { view: first, changed });
      const fresh = viewRoutes(state);
      expect(derived.graph.entities, name).toEqual(fresh.graph.entities);
      expect([...derived.graph.signatureOfIndex], name).toEqual([...fresh.graph.signatureOfIndex]);
      expect([...derived.reach], name).toEqual([...fresh.reach]);
    }
  });
});
