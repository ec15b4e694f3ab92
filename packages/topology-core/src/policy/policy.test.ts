import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY, parsePolicy } from "./policy.js";

describe("parsePolicy", () => {
  it("fills every default into an empty policy", () => {
    expect(parsePolicy({})).toEqual({ ok: true, policy: DEFAULT_POLICY });
    expect(parsePolicy(undefined)).toEqual({ ok: true, policy: DEFAULT_POLICY });
  });

  it("keeps the fields it is given", () => {
    const result = parsePolicy({
      topology: "zoned",
      min: 2,
      max: 4,
      ratio: 0.1,
      excludeNodeSelector: "node-role.kubernetes.io/control-plane",
    });
    expect(result.ok && result.policy).toMatchObject({
      topology: "zoned",
      min: 2,
      max: 4,
      ratio: 0.1,
      excludeNodeSelector: "node-role.kubernetes.io/control-plane",
      reflectorsPerNode: 2,
    });
  });

  const bad = [
    {
      name: "a negative ratio",
      input: { ratio: -0.1 },
      wantPath: "ratio",
      wantMessage: /greater than 0/,
    },
    { name: "a ratio above 1", input: { ratio: 2 }, wantPath: "ratio", wantMessage: /at most 1/ },
    {
      name: "min above max",
      input: { min: 5, max: 3 },
      wantPath: "min",
      wantMessage: /must not exceed max \(min is 5, max is 3\)/,
    },
    {
      name: "min above the default max",
      input: { min: 11 },
      wantPath: "min",
      wantMessage: /must not exceed max/,
    },
    {
      name: "an unknown topology",
      input: { topology: "ring" },
      wantPath: "topology",
      wantMessage: /"single", "multi", "zoned"/,
    },
    {
      name: "a fractional reflector count",
      input: { reflectorsPerNode: 1.5 },
      wantPath: "reflectorsPerNode",
      wantMessage: /whole number/,
    },
    {
      name: "a string where a number belongs",
      input: { max: "ten" },
      wantPath: "max",
      wantMessage: /number/,
    },
    {
      name: "a malformed exclude selector",
      input: { excludeNodeSelector: "role in (a,b" },
      wantPath: "excludeNodeSelector",
      wantMessage: /label selector/,
    },
    {
      name: "a malformed prefer selector",
      input: { preferNodeSelector: "=x" },
      wantPath: "preferNodeSelector",
      wantMessage: /label selector/,
    },
    {
      name: "an invalid zone label key",
      input: { zoneLabel: "bad key!" },
      wantPath: "zoneLabel",
      wantMessage: /./,
    },
    {
      name: "a cluster ID base that is not IPv4",
      input: { clusterIdBase: "244.0.0" },
      wantPath: "clusterIdBase",
      wantMessage: /IPv4/,
    },
    {
      name: "a misspelt field",
      input: { reflectorPerNode: 2 },
      wantPath: "reflectorPerNode",
      wantMessage: /unknown field/,
    },
    { name: "a list instead of a mapping", input: [1, 2], wantPath: "(policy)", wantMessage: /./ },
  ];
  for (const row of bad) {
    it(`names the field for ${row.name}`, () => {
      const result = parsePolicy(row.input);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      const issue = result.issues.find((i) => i.path === row.wantPath);
      expect(issue, JSON.stringify(result.issues)).toBeDefined();
      expect(issue?.message).toMatch(row.wantMessage);
    });
  }

  it("reports every problem at once", () => {
    const result = parsePolicy({ ratio: -1, topology: "x", min: 0 });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues.map((i) => i.path).sort()).toEqual(["min", "ratio", "topology"]);
  });
});
