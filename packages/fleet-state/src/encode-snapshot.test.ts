import { deflateRawSync } from "node:zlib";
import type { ClusterSnapshot } from "@rrfleet/topology-core";
import { makeCluster, makeNode } from "@rrfleet/topology-core/testing";
import { describe, expect, it } from "vitest";
import { decodeSnapshot } from "./decode-snapshot.js";
import { encodeSnapshot } from "./encode-snapshot.js";
import { FleetStateError } from "./fleet-state-error.js";
import { makeRealisticSnapshot } from "./testing/make-realistic-snapshot.js";

describe("encodeSnapshot", () => {
  it("round-trips a realistic 5,000-node snapshot", () => {
    const snapshot = makeRealisticSnapshot();
    const decoded = decodeSnapshot(encodeSnapshot(snapshot).bytes);
    const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : 1);
    expect(decoded).toEqual({
      ...snapshot,
      nodes: [...snapshot.nodes].sort(byName),
      bgpPeers: [...snapshot.bgpPeers].sort(byName),
    });
  });

  it("decodes data written before fencing epochs were stored as having none", () => {
    const old = [
      1,
      0,
      [1, 0, ["nodeToNodeMeshEnabled"], "5"],
      ["zone"],
      [0, -1],
      [["a", [0], 1]],
      [["p", [], null, "all()", "all()", null, null, "9"]],
    ];
    const decoded = decodeSnapshot(deflateRawSync(JSON.stringify(old)));
    expect(decoded.nodes[0]?.fencingEpoch).toBeUndefined();
    expect(decoded.bgpPeers[0]?.fencingEpoch).toBeUndefined();
    expect(decoded.bgpConfiguration.fencingEpoch).toBeUndefined();
    expect(decoded.bgpPeers[0]?.resourceVersion).toBe("9");
  });

  it("round-trips every time string exactly, canonical or not", () => {
    const times = [
      "2026-03-01T10:00:00Z",
      "2024-02-29T00:00:00Z",
      "2026-02-30T00:00:00Z", // V8 would read it as March 2
      "2024-01-31T24:00:00Z", // and this as February 1
      "1970-01-01T00:00:00Z",
      "0099-01-01T00:00:00Z",
      "2026-01-01T00:00:00.5Z",
      "2026-01-01T02:00:00+02:00",
      "2026-01-01 00:00:00Z",
      "yesterday",
    ];
    const nodes = times.map((time, i) => makeNode(`n${i}`).ready(time).createdAt(time).build());
    const decoded = decodeSnapshot(encodeSnapshot(makeCluster(nodes)).bytes);
    expect(decoded.nodes.map((n) => [n.readyTransitionTime, n.creationTimestamp])).toEqual(
      times.map((time) => [time, time]),
    );
  });

  it("measures the realistic fixture with ten labels on every node", () => {
    const snapshot = makeRealisticSnapshot();
    expect(snapshot.nodes).toHaveLength(5000);
    expect(snapshot.nodes.every((n) => Object.keys(n.labels).length === 10)).toBe(true);
  });

  it("stores a 5,000-node snapshot in under 40 bytes per node", () => {
    // The README's number; the limit leaves room for format tweaks, not for object-shaped JSON.
    expect(encodeSnapshot(makeRealisticSnapshot()).bytes.length / 5000).toBeLessThan(40);
  });

  it("gives the same bytes and hash for the same content in any order", () => {
    const snapshot = makeRealisticSnapshot({ nodes: 300 });
    const shuffled: ClusterSnapshot = {
      ...snapshot,
      nodes: [...snapshot.nodes]
        .reverse()
        .map((n) => ({ ...n, labels: Object.fromEntries(Object.entries(n.labels).reverse()) })),
      bgpPeers: [...snapshot.bgpPeers].reverse(),
    };
    const a = encodeSnapshot(snapshot);
    const b = encodeSnapshot(shuffled);
    expect(b.hash).toBe(a.hash);
    expect(b.bytes.equals(a.bytes)).toBe(true);
  });

  const changes: { name: string; change: (s: ClusterSnapshot) => ClusterSnapshot }[] = [
    {
      name: "a node turning NotReady",
      change: (s) => ({
        ...s,
        nodes: s.nodes.map((n, i) => (i === 0 ? { ...n, ready: false } : n)),
      }),
    },
    {
      name: "a label value changing to the node's own name",
      change: (s) => ({
        ...s,
        nodes: s.nodes.map((n, i) => (i === 0 ? { ...n, labels: { ...n.labels, x: n.name } } : n)),
      }),
    },
    {
      name: "a resourceVersion moving on",
      change: (s) => ({
        ...s,
        nodes: s.nodes.map((n, i) => (i === 1 ? { ...n, resourceVersion: "2" } : n)),
      }),
    },
    {
      name: "the mesh switching on",
      change: (s) => ({
        ...s,
        bgpConfiguration: { ...s.bgpConfiguration, nodeToNodeMeshEnabled: true },
      }),
    },
    {
      name: "the Calico API moving to v3",
      change: (s) => ({ ...s, calicoApiVersion: "projectcalico.org/v3" }),
    },
  ];
  it.each(changes)("gives another hash after $name", ({ change }) => {
    const snapshot = makeCluster([makeNode("n1").inZone("a"), makeNode("n2").inZone("b")], {
      mesh: false,
    });
    expect(encodeSnapshot(change(snapshot)).hash).not.toBe(encodeSnapshot(snapshot).hash);
  });

  it("throws RangeError on a taint effect it has no code for", () => {
    const node = { ...makeNode("n1").build(), taints: [{ key: "k", effect: "Sometimes" }] };
    const snapshot = makeCluster([node as never]);
    expect(() => encodeSnapshot(snapshot)).toThrow(RangeError);
  });
});

describe("decodeSnapshot", () => {
  const broken: { name: string; bytes: Buffer; wantMessage: RegExp }[] = [
    {
      name: "bytes that are not deflated",
      bytes: Buffer.from("hello"),
      wantMessage: /deflated JSON/,
    },
    {
      name: "a format this reader does not know",
      bytes: deflateRawSync(JSON.stringify([2, 0])),
      wantMessage: /format 2, this reader knows 1/,
    },
    {
      name: "a label pair pointing past the table",
      bytes: deflateRawSync(JSON.stringify([1, 0, [0, 1, []], [], [], [["n1", [5], 1]], []])),
      wantMessage: /nodes\[0\]: pair 5 out of range/,
    },
    {
      name: "a node that is not a tuple",
      bytes: deflateRawSync(JSON.stringify([1, 0, [0, 1, []], [], [], [{ name: "n1" }], []])),
      wantMessage: /nodes\[0\] is not an array/,
    },
  ];
  it.each(broken)("throws Corrupt on $name", ({ bytes, wantMessage }) => {
    let error: unknown;
    try {
      decodeSnapshot(bytes);
    } catch (err: unknown) {
      error = err;
    }
    expect(error).toBeInstanceOf(FleetStateError);
    expect((error as FleetStateError).code).toBe("Corrupt");
    expect((error as FleetStateError).message).toMatch(wantMessage);
  });
});
