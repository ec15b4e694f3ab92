import { describe, expect, it } from "vitest";
import type { NodeInfo } from "../model/cluster.js";
import { makeForeignPeer, makeNode } from "../testing/builders.js";
import { allocateIdentities } from "./allocate-identities.js";
import type { ChosenReflector } from "./select-reflectors.js";

const chosen = (...nodes: NodeInfo[]): ChosenReflector[] =>
  nodes.map((node) => ({ node, zone: node.labels["topology.kubernetes.io/zone"] ?? "" }));

describe("allocateIdentities", () => {
  it("multi: gives every reflector its own cluster ID, reusing valid ones and skipping IDs other nodes hold", () => {
    const kept = makeNode("kept").reflector("244.0.0.2").build();
    const clash = makeNode("clash").reflector("244.0.0.2").build();
    const invalid = makeNode("invalid").reflector("not-an-ip").build();
    const leaving = makeNode("leaving").reflector("244.0.0.1").build();
    const ids = allocateIdentities(
      chosen(clash, invalid, kept),
      [kept, clash, invalid, leaving],
      [],
      "multi",
      "244.0.0.0",
    );
    const byNode = Object.fromEntries(ids.map((r) => [r.node, r.clusterId]));
    expect(byNode["clash"]).toBe("244.0.0.2"); // first by name keeps it
    expect(new Set(Object.values(byNode)).size).toBe(3);
    expect(Object.values(byNode)).not.toContain("244.0.0.1"); // held by a node on its way out
    expect(Object.values(byNode).every((id) => /^\d+\.\d+\.\d+\.\d+$/.test(id))).toBe(true);
  });

  it("single: one shared cluster ID, the one most reflectors already carry", () => {
    const nodes = [
      makeNode("a").reflector("244.0.0.9").build(),
      makeNode("b").reflector("244.0.0.9").build(),
      makeNode("c").reflector("244.0.0.3").build(),
    ];
    const ids = allocateIdentities(chosen(...nodes), nodes, [], "single", "244.0.0.0");
    expect(new Set(ids.map((r) => r.clusterId))).toEqual(new Set(["244.0.0.9"]));
  });

  it("zoned: one cluster ID per zone, distinct across zones", () => {
    const nodes = ["a", "a", "b", "c"].map((zone, i) => makeNode(`n${i}`).inZone(zone).build());
    const ids = allocateIdentities(chosen(...nodes), nodes, [], "zoned", "244.0.0.0");
    const byZone = new Map<string, Set<string>>();
    for (const r of ids) byZone.set(r.zone, new Set([...(byZone.get(r.zone) ?? []), r.clusterId]));
    expect([...byZone.values()].every((set) => set.size === 1)).toBe(true);
    expect(new Set(ids.map((r) => r.clusterId)).size).toBe(3);
  });

  it("keeps a reflector's key and never hands out a key that stale client labels or foreign BGPPeer names still use", () => {
    const kept = makeNode("kept")
      .reflector("244.0.0.1")
      .withLabels({ "rrfleet.io/reflector": "2" })
      .build();
    const staleClient = makeNode("client").withLabels({ "rrfleet.io/peer-1": "true" }).build();
    const fresh = makeNode("fresh").build();
    const foreign = makeForeignPeer("rrfleet-reflector-3", {
      nodeSelector: "all()",
      peerSelector: "all()",
    });
    const ids = allocateIdentities(
      chosen(kept, fresh),
      [kept, staleClient, fresh],
      [foreign],
      "multi",
      "244.0.0.0",
    );
    expect(Object.fromEntries(ids.map((r) => [r.node, r.key]))).toEqual({ kept: "2", fresh: "4" });
  });

  it("returns reflectors sorted by key", () => {
    const nodes = [
      makeNode("z").withLabels({ "rrfleet.io/reflector": "1" }).build(),
      makeNode("a").build(),
    ];
    expect(
      allocateIdentities(chosen(...nodes), nodes, [], "multi", "244.0.0.0").map((r) => r.key),
    ).toEqual(["1", "2"]);
  });
});
