import type { NodeInfo } from "@rrfleet/topology-core";
import { makeNode } from "@rrfleet/topology-core/testing";
import { describe, expect, it } from "vitest";
import { createWatchStore } from "./create-watch-store.js";

function node(name: string, resourceVersion: string, zone = "a"): NodeInfo {
  return { ...makeNode(name).inZone(zone).build(), resourceVersion };
}

describe("createWatchStore", () => {
  const upserts = [
    { name: "a new object is added", before: [], value: node("n1", "5"), want: "added" },
    {
      name: "a projected field that moved is a modification",
      before: [node("n1", "5")],
      value: node("n1", "6", "b"),
      want: "modified",
    },
    {
      name: "only the resourceVersion moved (a heartbeat)",
      before: [node("n1", "5")],
      value: node("n1", "6"),
      want: "versionOnly",
    },
    {
      name: "the same object again",
      before: [node("n1", "5")],
      value: node("n1", "5"),
      want: "unchanged",
    },
    {
      name: "a label added deep inside is a modification",
      before: [node("n1", "5")],
      value: { ...node("n1", "6"), labels: { ...node("n1", "6").labels, extra: "x" } },
      want: "modified",
    },
  ] as const;
  it.each(upserts)("upsert: $name", ({ before, value, want }) => {
    const store = createWatchStore<NodeInfo>();
    store.replace(before);
    const generation = store.generation;
    expect(store.upsert(value)).toBe(want);
    expect(store.get(value.name)?.resourceVersion).toBe(value.resourceVersion);
    expect(store.generation > generation).toBe(want !== "unchanged");
  });

  it("removes a known object once and reports an unknown one as unchanged", () => {
    const store = createWatchStore<NodeInfo>();
    store.upsert(node("n1", "5"));
    expect(store.remove("n1")).toBe("deleted");
    expect(store.remove("n1")).toBe("unchanged");
    expect(store.size).toBe(0);
  });

  it("applies a relist as the events it stands for", () => {
    const store = createWatchStore<NodeInfo>();
    store.replace([node("keep", "1"), node("beat", "2"), node("move", "3"), node("gone", "4")]);
    const kept = store.get("keep");
    const diff = store.replace([
      node("keep", "1"),
      node("beat", "12"),
      node("move", "13", "b"),
      node("new", "14"),
    ]);
    expect(diff).toEqual({ added: 1, modified: 1, deleted: 1, versionOnly: 1, unchanged: 1 });
    expect([...store.values()].map((n) => `${n.name}@${n.resourceVersion ?? ""}`)).toEqual([
      "keep@1",
      "beat@12",
      "move@13",
      "new@14",
    ]);
    // Unchanged objects keep their identity: consumers may compare by reference.
    expect(store.get("keep")).toBe(kept);
  });

  it("leaves the generation alone when a relist changed nothing", () => {
    const store = createWatchStore<NodeInfo>();
    store.replace([node("n1", "1")]);
    const generation = store.generation;
    expect(store.replace([node("n1", "1")])).toMatchObject({ unchanged: 1 });
    expect(store.generation).toBe(generation);
  });
});
