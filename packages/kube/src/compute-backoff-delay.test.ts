import { describe, expect, it } from "vitest";
import { computeBackoffDelay } from "./compute-backoff-delay.js";

const BOUNDS = { initialMs: 1_000, maxMs: 30_000 };

describe("computeBackoffDelay", () => {
  const cases = [
    { name: "the first retry draws from [0, initial)", attempt: 0, random: 0.5, want: 500 },
    { name: "each retry doubles the window", attempt: 1, random: 0.5, want: 1_000 },
    { name: "the fourth retry draws from [0, 8 s)", attempt: 3, random: 0.25, want: 2_000 },
    { name: "the window stops at the maximum", attempt: 5, random: 0.5, want: 15_000 },
    { name: "a huge attempt stays at the maximum", attempt: 2_000, random: 0.5, want: 15_000 },
    { name: "a zero draw retries at once", attempt: 4, random: 0, want: 0 },
    { name: "the top of the window is excluded", attempt: 0, random: 0.99999999, want: 999 },
    { name: "a draw of 1 (out of contract) stays inside", attempt: 0, random: 1, want: 999 },
  ];
  it.each(cases)("$name", ({ attempt, random, want }) => {
    expect(computeBackoffDelay(attempt, BOUNDS, () => random)).toBe(want);
  });

  const invalid = [
    { name: "a negative attempt", attempt: -1, bounds: BOUNDS },
    { name: "a fractional attempt", attempt: 1.5, bounds: BOUNDS },
    { name: "a zero initial delay", attempt: 0, bounds: { initialMs: 0, maxMs: 10 } },
    { name: "a maximum below the initial delay", attempt: 0, bounds: { initialMs: 10, maxMs: 5 } },
    { name: "an infinite maximum", attempt: 0, bounds: { initialMs: 10, maxMs: Infinity } },
  ];
  it.each(invalid)("rejects $name", ({ attempt, bounds }) => {
    expect(() => computeBackoffDelay(attempt, bounds, () => 0.5)).toThrow(RangeError);
  });
});
