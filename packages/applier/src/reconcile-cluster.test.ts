import { describe, expect, it } from "vitest";
import { sampleSessions } from "./reconcile-cluster.js";

describe("sampleSessions", () => {
  const pairs = Array.from({ length: 10 }, (_, i) => ({ node: `a${i}`, peer: `b${i}` }));

  it("keeps every pair up to the limit", () => {
    expect(sampleSessions(pairs, 10)).toBe(pairs);
  });

  it("spreads a sample evenly over a longer list, first pair included", () => {
    expect(sampleSessions(pairs, 3).map((p) => p.node)).toEqual(["a0", "a3", "a6"]);
  });
});
