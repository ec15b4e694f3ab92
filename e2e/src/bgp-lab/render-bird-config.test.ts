import { describe, expect, it } from "vitest";
import { compileSelector } from "./match-selector.js";
import {
  renderBirdConfig,
  renderSessions,
  type LabClusterState,
  type LabNode,
} from "./render-bird-config.js";

const node = (
  name: string,
  address: string,
  labels: Record<string, string> = {},
  clusterId?: string,
): LabNode => ({
  name,
  address,
  labels,
  ...(clusterId === undefined ? {} : { clusterId }),
});

const state = (overrides: Partial<LabClusterState>): LabClusterState => ({
  nodes: [],
  bgpPeers: [],
  meshEnabled: true,
  asNumber: "64512",
  ...overrides,
});

const summary = (s: LabClusterState, name: string) =>
  renderSessions(s, name).map(
    (p) =>
      `${p.name}${p.passive ? " passive" : ""}${p.rrClusterId === undefined ? "" : ` rr ${p.rrClusterId}`}`,
  );

describe("renderSessions (Calico v3.32 confd rules)", () => {
  it("meshes nodes without a cluster ID; the side toward the higher address (string order) is passive", () => {
    const s = state({
      nodes: [node("a", "10.1.0.2"), node("b", "10.1.0.10"), node("c", "10.1.0.3")],
    });
    // "10.1.0.10" < "10.1.0.2" as strings: a dials b, b listens for a.
    expect(summary(s, "a")).toEqual(["Mesh_10_1_0_10", "Mesh_10_1_0_3 passive"]);
    expect(summary(s, "b")).toEqual(["Mesh_10_1_0_2 passive", "Mesh_10_1_0_3 passive"]);
  });

  it("keeps reflectors out of the mesh and gives explicit peers, reverse included, as Node_ sessions", () => {
    const s = state({
      nodes: [
        node("rr", "10.1.0.1", { "rrfleet.io/reflector": "1" }, "244.0.0.1"),
        node("c1", "10.1.0.2", { "rrfleet.io/peer-1": "true" }),
        node("c2", "10.1.0.3"),
      ],
      bgpPeers: [
        {
          name: "rrfleet-reflector-1",
          nodeSelector: "has(rrfleet.io/peer-1)",
          peerSelector: "rrfleet.io/reflector == '1'",
        },
      ],
    });
    expect(summary(s, "rr")).toEqual(["Node_10_1_0_2 rr 244.0.0.1"]);
    expect(summary(s, "c1")).toEqual(["Mesh_10_1_0_3 passive", "Node_10_1_0_1"]);
    expect(summary(s, "c2")).toEqual(["Mesh_10_1_0_2"]);
  });

  it("does not merge a mesh session and an explicit session to the same neighbour", () => {
    const s = state({
      nodes: [node("a", "10.1.0.1", { role: "x" }), node("b", "10.1.0.2", { role: "y" })],
      bgpPeers: [{ name: "p", nodeSelector: "role == 'x'", peerSelector: "role == 'y'" }],
    });
    expect(summary(s, "a")).toEqual(["Mesh_10_1_0_2 passive", "Node_10_1_0_2"]);
    expect(summary(s, "b")).toEqual(["Mesh_10_1_0_1", "Node_10_1_0_1"]);
  });

  it("reflects to peers with another cluster ID and not to peers sharing its own", () => {
    const s = state({
      meshEnabled: false,
      nodes: [
        node("r1", "10.1.0.1", { rr: "" }, "244.0.0.1"),
        node("r2", "10.1.0.2", { rr: "" }, "244.0.0.1"),
        node("r3", "10.1.0.3", { rr: "" }, "244.0.0.3"),
      ],
      bgpPeers: [{ name: "mesh", nodeSelector: "has(rr)", peerSelector: "has(rr)" }],
    });
    expect(summary(s, "r1")).toEqual(["Node_10_1_0_2", "Node_10_1_0_3 rr 244.0.0.1"]);
  });

  it("makes global peers of BGPPeers without a node side, passive toward higher calico nodes", () => {
    const s = state({
      meshEnabled: false,
      nodes: [node("a", "10.1.0.1", { x: "1" }), node("b", "10.1.0.2", { x: "1" })],
      bgpPeers: [{ name: "g", peerSelector: "has(x)" }],
    });
    expect(summary(s, "a")).toEqual(["Global_10_1_0_2 passive"]);
    expect(summary(s, "b")).toEqual(["Global_10_1_0_1"]);
  });

  it("selects nobody with a selector that does not parse, and says why", () => {
    const problems: string[] = [];
    const s = state({
      meshEnabled: false,
      nodes: [node("a", "10.1.0.1"), node("b", "10.1.0.2")],
      bgpPeers: [{ name: "bad", nodeSelector: "all()", peerSelector: "has(" }],
    });
    expect(renderSessions(s, "a", problems)).toEqual([]);
    expect(problems.join()).toMatch(/has\(/);
  });

  it("renders a configuration with the pod block as a blackhole and the filters Calico uses", () => {
    const s = state({ nodes: [node("a", "10.1.0.1"), node("b", "10.1.0.2")] });
    const text = renderBirdConfig(s, "a", ["192.168.0.0/26"]);
    expect(text).toContain("route 192.168.0.0/26 blackhole;");
    expect(text).toContain("router id 10.1.0.1;");
    expect(text).toMatch(
      /protocol bgp Mesh_10_1_0_2 from bgp_template \{[^}]*neighbor 10\.1\.0\.2 as 64512;/,
    );
    expect(text).toContain("export filter calico_kernel_programming;");
  });
});

describe("compileSelector", () => {
  it.each([
    { name: "all()", selector: "all()", labels: {}, want: true },
    { name: "has", selector: "has(a/b)", labels: { "a/b": "" }, want: true },
    { name: "equality", selector: "k == 'v'", labels: { k: "v" }, want: true },
    { name: "inequality of a missing key", selector: "k != 'v'", labels: {}, want: true },
    { name: "in", selector: 'k in {"a", "b"}', labels: { k: "b" }, want: true },
    { name: "not in", selector: "k not in {'a'}", labels: { k: "a" }, want: false },
    {
      name: "and/or/not",
      selector: "!has(x) && (k == 'v' || j == 'w')",
      labels: { j: "w" },
      want: true,
    },
    { name: "starts with", selector: "k starts with 'ab'", labels: { k: "abc" }, want: true },
  ])("$name", ({ selector, labels, want }) => {
    expect(compileSelector(selector)(labels)).toBe(want);
  });
});
