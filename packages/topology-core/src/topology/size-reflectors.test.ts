import { describe, expect, it } from "vitest";
import { sizeReflectors } from "./size-reflectors.js";

describe("sizeReflectors", () => {
  const rows = [
    {
      name: "a single node is its own reflector",
      eligible: 1,
      ratio: 0.005,
      min: 3,
      max: 10,
      want: 1,
    },
    { name: "three nodes reach min", eligible: 3, ratio: 0.005, min: 3, max: 10, want: 3 },
    { name: "600 × 0.005 = 3 exactly", eligible: 600, ratio: 0.005, min: 3, max: 10, want: 3 },
    { name: "601 × 0.005 rounds up to 4", eligible: 601, ratio: 0.005, min: 3, max: 10, want: 4 },
    { name: "1000 × 0.005 = 5", eligible: 1000, ratio: 0.005, min: 3, max: 10, want: 5 },
    { name: "2000 × 0.005 = 10, at max", eligible: 2000, ratio: 0.005, min: 3, max: 10, want: 10 },
    {
      name: "100,000 nodes clamp to max",
      eligible: 100_000,
      ratio: 0.005,
      min: 3,
      max: 10,
      want: 10,
    },
    {
      name: "100 × 0.05 = 5 despite float noise",
      eligible: 100,
      ratio: 0.05,
      min: 1,
      max: 10,
      want: 5,
    },
    {
      name: "100 × 0.07 is 7, not 8 (7.000000000000001 in float64)",
      eligible: 100,
      ratio: 0.07,
      min: 1,
      max: 10,
      want: 7,
    },
    {
      name: "five zones of 20 with max 3 give exactly 3",
      eligible: 100,
      ratio: 0.05,
      min: 1,
      max: 3,
      want: 3,
    },
    { name: "no eligible node, no reflector", eligible: 0, ratio: 0.005, min: 3, max: 10, want: 0 },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(sizeReflectors(row.eligible, row)).toBe(row.want);
    });
  }
});
