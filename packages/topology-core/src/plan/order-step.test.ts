import { describe, expect, it } from "vitest";
import { createAnalysisCache } from "../analysis/peerings.js";
import { viewRoutes } from "../analysis/reachability-report.js";
import type { Action } from "../model/actions.js";
import type { BgpPeerInfo, ClusterSnapshot } from "../model/cluster.js";
import { CLUSTER_ID_ANNOTATION } from "../model/names.js";
import { findUnsafePrefix, makeCluster, makeForeignPeer, makeNode } from "../testing/index.js";
import { orderStep, type OrderedStep } from "./order-step.js";

function order(state: ClusterSnapshot, actions: readonly Action[]): OrderedStep {
  const cache = createAnalysisCache();
  return orderStep(
    { state, view: viewRoutes(state, cache) },
    { reason: "PrepareReflectors", description: "test", actions },
    { cache, indexOfNode: new Map(state.nodes.map((n, i) => [n.name, i])) },
  );
}

const create = (peer: BgpPeerInfo): Action => ({
  verb: "create",
  kind: "BGPPeer",
  object: {
    apiVersion: "crd.projectcalico.org/v1",
    kind: "BGPPeer",
    metadata: { name: peer.name, labels: peer.labels },
    spec: { nodeSelector: peer.nodeSelector ?? "all()", peerSelector: peer.peerSelector ?? "" },
  },
});
const remove = (name: string): Action => ({ verb: "delete", kind: "BGPPeer", name });
const label = (name: string, labels: Record<string, string | null>): Action => ({
  verb: "patch",
  kind: "Node",
  name,
  patch: { metadata: { labels } },
});
const annotate = (name: string, clusterId: string | null): Action => ({
  verb: "patch",
  kind: "Node",
  name,
  patch: { metadata: { annotations: { [CLUSTER_ID_ANNOTATION]: clusterId } } },
});
const clientsOfRr = (name: string) =>
  makeForeignPeer(name, { nodeSelector: "has(client)", peerSelector: "has(rr)" });
const everyoneWithRr = (name: string) =>
  makeForeignPeer(name, { nodeSelector: "all()", peerSelector: "has(rr)" });

/** One reflector `rr` serving clients a and b, the mesh off. */
const served = (peers: readonly BgpPeerInfo[]) =>
  makeCluster(
    [
      makeNode("rr").withLabels({ rr: "" }).reflector("244.0.0.1"),
      makeNode("a").withLabels({ client: "" }),
      makeNode("b").withLabels({ client: "" }),
    ],
    { mesh: false, bgpPeers: peers },
  );

/** Reflector `old` (cluster ID `id`, also a client of the others) leaving; `new` (244.0.0.1) stays. */
const demoting = (id: string) =>
  makeCluster(
    [
      makeNode("old").withLabels({ rr: "", client: "" }).reflector(id),
      makeNode("new").withLabels({ rr: "" }).reflector("244.0.0.1"),
      makeNode("a").withLabels({ client: "" }),
    ],
    {
      mesh: false,
      bgpPeers: [
        makeForeignPeer("p", { nodeSelector: "has(client)", peerSelector: "has(rr)" }),
        makeForeignPeer("rrs", { nodeSelector: "has(rr)", peerSelector: "has(rr)" }),
      ],
    },
  );

describe("orderStep", () => {
  const cases: {
    name: string;
    state: ClusterSnapshot;
    actions: Action[];
    wantKind: OrderedStep["kind"];
    wantOrder?: number[];
    wantInAnyOrder?: boolean;
  }[] = [
    {
      name: "a lone write may always go in any order",
      state: served([clientsOfRr("p")]),
      actions: [label("a", { extra: "1" })],
      wantKind: "ordered",
      wantOrder: [0],
      wantInAnyOrder: true,
    },
    {
      name: "pure additions (a BGPPeer, clients labelled into it) may land in any order",
      state: makeCluster(
        [makeNode("rr").withLabels({ rr: "" }), makeNode("a"), makeNode("b"), makeNode("c")],
        { mesh: true },
      ),
      actions: [create(clientsOfRr("p")), label("a", { client: "" }), label("b", { client: "" })],
      wantKind: "ordered",
      wantOrder: [0, 1, 2],
      wantInAnyOrder: true,
    },
    {
      name: "a replacement BGPPeer is created before the old one is deleted, and only in that order",
      state: served([clientsOfRr("old")]),
      actions: [remove("old"), create(clientsOfRr("new"))],
      wantKind: "ordered",
      wantOrder: [1, 0],
      wantInAnyOrder: false,
    },
    {
      name: "a step that loses routes as a whole is refused",
      state: served([clientsOfRr("p")]),
      actions: [remove("p")],
      wantKind: "lost",
    },
    {
      name: "promotions with the mesh on go in any order when each promoted node peers with every node",
      state: makeCluster(
        [
          makeNode("r1").withLabels({ rr: "" }),
          makeNode("r2").withLabels({ rr: "" }),
          makeNode("a"),
          makeNode("b"),
        ],
        { mesh: true, bgpPeers: [everyoneWithRr("bootstrap")] },
      ),
      actions: [annotate("r1", "244.0.0.1"), annotate("r2", "244.0.0.2")],
      wantKind: "ordered",
      wantOrder: [0, 1],
      wantInAnyOrder: true,
    },
    {
      name: "promotions with the mesh on and no such sessions have no safe order",
      state: makeCluster(
        [
          makeNode("r1").withLabels({ rr: "1" }),
          makeNode("r2").withLabels({ rr: "2" }),
          makeNode("a").withLabels({ via: "1" }),
          makeNode("b").withLabels({ via: "2" }),
        ],
        {
          mesh: true,
          bgpPeers: [
            makeForeignPeer("to-1", { nodeSelector: "via == '1'", peerSelector: "rr == '1'" }),
            makeForeignPeer("to-2", { nodeSelector: "via == '2'", peerSelector: "rr == '2'" }),
            makeForeignPeer("rrs", { nodeSelector: "has(rr)", peerSelector: "has(rr)" }),
          ],
        },
      ),
      actions: [annotate("r1", "244.0.0.1"), annotate("r2", "244.0.0.2")],
      wantKind: "unordered",
    },
    {
      name: "a demotion with the mesh off and distinct cluster IDs may land in any order",
      state: demoting("244.0.0.9"),
      actions: [label("old", { rr: null }), annotate("old", null)],
      wantKind: "ordered",
      wantOrder: [0, 1],
      wantInAnyOrder: true,
    },
    {
      name: "a demotion next to a reflector sharing its cluster ID is simulated write by write",
      state: demoting("244.0.0.1"),
      actions: [label("old", { rr: null }), annotate("old", null)],
      wantKind: "ordered",
    },
  ];

  for (const { name, state, actions, wantKind, wantOrder, wantInAnyOrder } of cases) {
    it(name, () => {
      const result = order(state, actions);
      expect(result.kind).toBe(wantKind);
      if (result.kind !== "ordered") return;
      if (wantOrder !== undefined)
        expect(result.step.actions).toEqual(wantOrder.map((i) => actions[i]));
      if (wantInAnyOrder !== undefined) expect(result.step.inAnyOrder).toBe(wantInAnyOrder);
      expect(findUnsafePrefix(state, result.step.actions)).toBeUndefined();
    });
  }

  it("checks a large unproven block at a few prefixes per kind of change, and still finds a safe order", () => {
    // Reflectors sharing a cluster ID that do not all peer with each other: no argument covers
    // the additions, so they are simulated.
    const nodes = [
      makeNode("r1").withLabels({ rr: "" }).reflector("244.0.0.1"),
      makeNode("r2").withLabels({ rr: "" }).reflector("244.0.0.1"),
      ...Array.from({ length: 40 }, (_, i) =>
        makeNode(`c${String(i).padStart(2, "0")}`).withLabels({ client: "" }),
      ),
    ];
    const state = makeCluster(nodes, {
      mesh: false,
      bgpPeers: [makeForeignPeer("p", { nodeSelector: "has(client)", peerSelector: "has(rr)" })],
    });
    const actions = Array.from({ length: 40 }, (_, i) =>
      label(`c${String(i).padStart(2, "0")}`, { extra: "" }),
    );
    const result = order(state, actions);
    expect(result.kind).toBe("ordered");
    if (result.kind === "ordered")
      expect(findUnsafePrefix(state, result.step.actions)).toBeUndefined();
  });
});
