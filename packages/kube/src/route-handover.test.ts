import { describe, expect, it } from "vitest";
import { findRoutesNotHandedOver, sampleHandovers, type ReportedRoute } from "./route-handover.js";
import type { RouteHandover } from "./session-check.js";

const mesh = (destination: string, peerIP: string): ReportedRoute => ({
  destination,
  gateway: peerIP,
  sourceType: "NodeMesh",
  peerIP,
});
const viaPeer = (destination: string, peerIP: string, gateway: string): ReportedRoute => ({
  destination,
  gateway,
  sourceType: "BGPPeer",
  peerIP,
});

const NODES = new Set(["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.9"]);
const REFLECTOR = new Map([["10.0.0.9", ["peer"] as const]]);

describe("findRoutesNotHandedOver", () => {
  it("names every mesh route the kept reflector session does not carry yet", () => {
    const routes = [
      mesh("192.168.0.0/26", "10.0.0.2"),
      mesh("192.168.0.64/26", "10.0.0.3"),
      viaPeer("192.168.0.0/26", "10.0.0.9", "10.0.0.2"),
      { destination: "192.168.0.128/26", gateway: "N/A", sourceType: "Static", peerIP: "" },
    ];
    expect(findRoutesNotHandedOver(routes, REFLECTOR, NODES, new Set())).toEqual([
      "192.168.0.64/26",
    ]);
    const handedOver = [...routes, viaPeer("192.168.0.64/26", "10.0.0.9", "10.0.0.3")];
    expect(findRoutesNotHandedOver(handedOver, REFLECTOR, NODES, new Set())).toEqual([]);
  });

  it("counts a route over a kept neighbour only with a protocol the pair keeps (the mesh session to a reflector goes)", () => {
    // The pair keeps its BGPPeer session; the mesh protocol to the same neighbour is removed.
    const routes = [mesh("192.168.0.192/26", "10.0.0.9")];
    expect(findRoutesNotHandedOver(routes, REFLECTOR, NODES, new Set())).toEqual([
      "192.168.0.192/26",
    ]);
  });

  it("leaves out routes from outside the cluster and the blocks of exempt nodes", () => {
    const routes = [
      viaPeer("0.0.0.0/0", "172.16.0.1", "172.16.0.1"), // a top-of-rack peer, not the step's
      mesh("192.168.1.0/26", "10.0.0.3"), // 10.0.0.3 changes role: its own block may go
    ];
    expect(findRoutesNotHandedOver(routes, REFLECTOR, NODES, new Set(["10.0.0.3"]))).toEqual([]);
    expect(findRoutesNotHandedOver(routes, REFLECTOR, NODES, new Set())).toEqual([
      "192.168.1.0/26",
    ]);
  });
});

describe("sampleHandovers", () => {
  const handover = (node: string, ...reflectors: string[]): RouteHandover => ({
    node,
    keeps: reflectors.map((peer) => ({ peer, kinds: ["peer"] as const })),
  });

  it("takes one node of each set of kept sessions in turn, up to the maximum", () => {
    const handovers = [
      handover("a1", "r1", "r2"),
      handover("a2", "r2", "r1"),
      handover("a3", "r1", "r2"),
      handover("b1", "r3"),
      handover("b2", "r3"),
    ];
    const first = () => 0;
    expect(sampleHandovers(handovers, 3, first)).toEqual({
      chosen: [handovers[0], handovers[3], handovers[1]],
      unchecked: 2,
    });
    expect(sampleHandovers(handovers, 10, first).chosen).toHaveLength(5);
  });

  it("picks at random within a set, so passes read different nodes", () => {
    const handovers = ["a", "b", "c", "d"].map((n) => handover(n, "r1"));
    expect(sampleHandovers(handovers, 1, () => 0.99).chosen).toEqual([handovers[3]]);
    expect(sampleHandovers(handovers, 1, () => 0.3).chosen).toEqual([handovers[1]]);
  });
});
