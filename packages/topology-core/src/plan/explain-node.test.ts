import { describe, expect, it } from "vitest";
import type { ClusterSnapshot, NodeInfo } from "../model/cluster.js";
import { readPeerKeys, REFLECTOR_LABEL } from "../model/names.js";
import { DEFAULT_POLICY, type Policy } from "../policy/policy.js";
import { makeCluster, makeNode, makeNodes, simulateSteps } from "../testing/index.js";
import { explainNode, type NodeExplanation } from "./explain-node.js";
import { planCluster } from "./plan-cluster.js";

const NOW = new Date("2026-06-01T12:00:00Z");
const policy = (overrides: Partial<Policy> = {}): Policy => ({ ...DEFAULT_POLICY, ...overrides });

function converge(cluster: ClusterSnapshot, p: Policy = policy()): ClusterSnapshot {
  return simulateSteps(cluster, planCluster(cluster, p, NOW).steps).at(-1) ?? cluster;
}

function explain(cluster: ClusterSnapshot, node: string, p: Policy = policy()): NodeExplanation {
  const explanation = explainNode(cluster, p, NOW, node);
  if (explanation === undefined) throw new Error(`no node ${node}`);
  return explanation;
}

/** The reflector node each client of `final` peers with, by its labels. */
function peersInFinalState(final: ClusterSnapshot, node: string): string[] {
  const byKey = new Map(
    final.nodes.flatMap((n) => {
      const key = n.labels[REFLECTOR_LABEL];
      return key === undefined ? [] : [[key, n.name] as const];
    }),
  );
  const info = final.nodes.find((n) => n.name === node);
  return readPeerKeys(info?.labels ?? {}).map((k) => byKey.get(k) ?? `?${k}`);
}

describe("explainNode", () => {
  it("is undefined for a node the cluster does not have", () => {
    expect(explainNode(makeCluster(makeNodes(3)), policy(), NOW, "ghost")).toBeUndefined();
  });

  it.each([
    { topology: "multi", min: 3 },
    { topology: "zoned", min: 6 },
    { topology: "single", min: 3 },
  ] as const)(
    "agrees with the $topology plan on every node: who is a reflector, who peers with whom",
    ({ topology, min }) => {
      const fresh = makeCluster([
        ...makeNodes(45, ["a", "b", "c"]),
        makeNode("late-a").inZone("a").createdAt("2026-05-01T00:00:00Z").build(),
      ]);
      const p = policy({ ratio: 0.05, topology, min });
      const final = converge(fresh, p);
      for (const node of fresh.nodes) {
        const e = explain(fresh, node.name, p);
        const isReflector = final.nodes.find((n) => n.name === node.name)?.labels[REFLECTOR_LABEL];
        expect([node.name, e.target.role]).toEqual([
          node.name,
          isReflector === undefined ? "client" : "reflector",
        ]);
        if (e.target.role === "client") {
          expect([node.name, e.target.peers.map((peer) => peer.reflector.node).sort()]).toEqual([
            node.name,
            peersInFinalState(final, node.name).sort(),
          ]);
          for (const peer of e.target.peers) {
            // Every reflector ranked above the chosen one says why it was passed over.
            if (peer.rank !== undefined) {
              expect(peer.passedOver?.length ?? 0).toBe(peer.rank.position - 1);
            }
          }
        } else {
          expect(e.selection).toMatchObject({ kind: "promote", reason: "ZoneBelowTarget" });
        }
      }
    },
  );

  it("explains a fresh cluster's promotion and what the first step writes to the node", () => {
    const fresh = makeCluster(makeNodes(30, ["a", "b", "c"]));
    const plan = planCluster(fresh, policy(), NOW);
    const promoted = plan.routeReflectors[0]?.node ?? "";
    const e = explain(fresh, promoted);
    expect(e.eligibility).toMatchObject({ eligible: true, preferred: false });
    expect(e.selection).toMatchObject({
      kind: "promote",
      reason: "ZoneBelowTarget",
      sizing: { eligible: 30, ratio: 0.005, min: 3, max: 10, wanted: 3 },
      zone: { target: 1, reflectors: [promoted] },
    });
    expect(e.target).toMatchObject({ role: "reflector", clients: expect.any(Number) as number });
    expect(e.current).toMatchObject({ reflector: false, peersWith: [], meshEnabled: true });
    expect(e.nextStep?.reason).toBe(plan.steps[0]?.reason);
    expect(e.planSteps).toBe(plan.steps.length);
    // Somewhere in the plan it gets its key and its cluster ID.
    const writes = [e.nextStep, ...e.laterSteps].flatMap((s) => s?.changes ?? []);
    expect(writes.some((w) => w.startsWith(`sets label ${REFLECTOR_LABEL}=`))).toBe(true);
    expect(writes.some((w) => w.includes("Calico makes it a route reflector"))).toBe(true);
  });

  const ineligible: {
    name: string;
    node: NodeInfo;
    policy?: Partial<Policy>;
    want: Record<string, unknown>;
    wantMessage: RegExp;
  }[] = [
    {
      name: "NotReady, with since when",
      node: makeNode("x").inZone("a").notReady("2026-06-01T11:50:00Z").build(),
      want: { reason: "NotReady", since: "2026-06-01T11:50:00Z", forSeconds: 600 },
      wantMessage: /x is not Ready since 2026-06-01T11:50:00Z \(600s; .*notReadyGraceSeconds 300\)/,
    },
    {
      name: "cordoned",
      node: makeNode("x").inZone("a").cordoned().build(),
      want: { reason: "Cordoned" },
      wantMessage: /x is cordoned/,
    },
    {
      name: "a lifecycle taint, named",
      node: makeNode("x").inZone("a").tainted("node.kubernetes.io/disk-pressure").build(),
      want: { reason: "LifecycleTaint" },
      wantMessage: /node.kubernetes.io\/disk-pressure:NoSchedule/,
    },
    {
      name: "excluded by the policy's selector, quoted",
      node: makeNode("x").inZone("a").withLabels({ pool: "gpu" }).build(),
      policy: { excludeNodeSelector: "pool=gpu" },
      want: { reason: "Excluded" },
      wantMessage: /matches excludeNodeSelector "pool=gpu"/,
    },
  ];
  it.each(ineligible)(
    "names the failing rule: $name",
    ({ node, policy: overrides, want, wantMessage }) => {
      const cluster = makeCluster([...makeNodes(9, ["a", "b", "c"]), node]);
      const e = explain(cluster, "x", policy(overrides));
      expect(e.eligibility).toMatchObject({ eligible: false, ...want });
      expect(e.eligibility.message).toMatch(wantMessage);
      expect(e.selection).toMatchObject({ kind: "none", reason: "Ineligible" });
    },
  );

  it("says a preferred node is preferred, and promotes it before older nodes", () => {
    const cluster = makeCluster([
      ...makeNodes(9, ["a", "b", "c"]).map((n) => ({
        ...n,
        creationTimestamp: "2026-01-01T00:00:00Z",
      })),
      makeNode("rr-a")
        .inZone("a")
        .withLabels({ role: "rr" })
        .createdAt("2026-05-01T00:00:00Z")
        .build(),
    ]);
    const e = explain(cluster, "rr-a", policy({ preferNodeSelector: "role=rr" }));
    expect(e.eligibility).toMatchObject({ eligible: true, preferred: true });
    expect(e.eligibility.message).toMatch(/matches preferNodeSelector "role=rr"/);
    expect(e.selection).toMatchObject({ kind: "promote", reason: "ZoneBelowTarget" });
  });

  it("explains a converged client: not chosen (its zone's share is taken), sticky peers", () => {
    const final = converge(makeCluster(makeNodes(60, ["a", "b", "c"])));
    const client = final.nodes.find((n) => n.labels[REFLECTOR_LABEL] === undefined)?.name ?? "";
    const e = explain(final, client);
    expect(e.selection).toMatchObject({
      kind: "none",
      reason: "ZoneTargetMet",
      zone: { target: 1 },
    });
    expect(e.selection.rank?.position).toBeGreaterThan(0);
    expect(e.selection.message).toMatch(/ranks \d+ of \d+ eligible nodes there/);
    expect([...e.current.peersWith].sort()).toEqual(peersInFinalState(final, client).sort());
    expect(e.target).toMatchObject({ role: "client" });
    if (e.target.role !== "client") return;
    expect(e.target.peers.map((p) => p.reason)).toEqual(["AlreadyPeered", "AlreadyPeered"]);
    expect(e.nextStep).toBeUndefined();
    expect(e.laterSteps).toEqual([]);
  });

  it("explains a reflector that stays, and the reflectors it is meshed with", () => {
    const final = converge(makeCluster(makeNodes(60, ["a", "b", "c"])));
    const reflector = final.nodes.find((n) => n.labels[REFLECTOR_LABEL] !== undefined)?.name ?? "";
    const e = explain(final, reflector);
    expect(e.selection).toMatchObject({ kind: "keep", reason: "ReflectorHealthy" });
    expect(e.current).toMatchObject({ reflector: true });
    expect(e.target).toMatchObject({ role: "reflector" });
    if (e.target.role === "reflector") expect(e.target.meshedWith).toHaveLength(2);
  });

  it("explains a lost reflector's demotion and where its clients go", () => {
    const final = converge(makeCluster(makeNodes(60, ["a", "b", "c"])));
    const lost = final.nodes.find((n) => n.labels[REFLECTOR_LABEL] !== undefined);
    const lostKey = lost?.labels[REFLECTOR_LABEL] ?? "";
    const broken: ClusterSnapshot = {
      ...final,
      nodes: final.nodes.map((n) =>
        n.name === lost?.name
          ? { ...n, ready: false, readyTransitionTime: "2026-06-01T11:00:00Z" }
          : n,
      ),
    };
    const e = explain(broken, lost?.name ?? "");
    expect(e.selection).toMatchObject({ kind: "demote", reason: "NotReadyPastGrace" });
    expect(e.eligibility).toMatchObject({ eligible: false, reason: "NotReady", forSeconds: 3600 });
    // A client of the lost reflector that stays a client (one of them replaces the reflector).
    const o = broken.nodes
      .filter((n) => readPeerKeys(n.labels).includes(lostKey))
      .map((n) => explain(broken, n.name))
      .find((x) => x.target.role === "client");
    if (o === undefined) throw new Error("no client of the lost reflector");
    expect(o.current.peersWith).toContain(lost?.name);
    if (o.target.role !== "client") throw new Error("expected a client");
    expect(o.target.peers.map((p) => p.reflector.node)).not.toContain(lost?.name);
    expect(o.target.peers.map((p) => p.reason).sort()).toEqual([
      "AlreadyPeered",
      "RendezvousChoice",
    ]);
    const changes = [o.nextStep, ...o.laterSteps].flatMap((s) => s?.changes ?? []);
    expect(changes).toContain(
      `removes label rrfleet.io/peer-${lostKey}: stops peering with ${lost?.name ?? ""}`,
    );
  });

  it("names the topology's fixed peerings: single peers every reflector, zoned its zone's", () => {
    const single = converge(
      makeCluster(makeNodes(30, ["a", "b", "c"])),
      policy({ topology: "single" }),
    );
    const sc = single.nodes.find((n) => n.labels[REFLECTOR_LABEL] === undefined)?.name ?? "";
    const s = explain(single, sc, policy({ topology: "single" }));
    if (s.target.role !== "client") throw new Error("expected a client");
    expect(s.target.peers.map((p) => p.reason)).toEqual([
      "EveryReflector",
      "EveryReflector",
      "EveryReflector",
    ]);

    const zonedPolicy = policy({ topology: "zoned", min: 6, maxPathsPerPrefix: 100 });
    const zoned = converge(makeCluster(makeNodes(60, ["a", "b", "c"])), zonedPolicy);
    const zc = zoned.nodes.find((n) => n.labels[REFLECTOR_LABEL] === undefined)?.name ?? "";
    const z = explain(zoned, zc, zonedPolicy);
    if (z.target.role !== "client") throw new Error("expected a client");
    expect(z.target.peers.filter((p) => p.reason === "OwnZoneReflectors")).toHaveLength(2);
    expect(z.target.peers.length).toBeGreaterThan(2);
  });
});
