import { describe, expect, it } from "vitest";
import { isResourceVersionAtLeast } from "./is-resource-version-at-least.js";

describe("isResourceVersionAtLeast", () => {
  const cases = [
    { name: "the same version", seen: "42", wanted: "42", want: true },
    { name: "a later version", seen: "43", wanted: "42", want: true },
    { name: "an earlier version", seen: "41", wanted: "42", want: false },
    { name: "more digits is later, not text order", seen: "100", wanted: "99", want: true },
    { name: "fewer digits is earlier, not text order", seen: "99", wanted: "100", want: false },
    {
      name: "beyond 2^53, where numbers would round",
      seen: "9007199254740993",
      wanted: "9007199254740992",
      want: true,
    },
    { name: "leading zeros do not count", seen: "0042", wanted: "42", want: true },
    { name: "opaque versions only match themselves", seen: "abc", wanted: "abc", want: true },
    { name: "opaque versions never order", seen: "abd", wanted: "abc", want: false },
    { name: "a decimal against an opaque one", seen: "42", wanted: "4a", want: false },
  ];
  it.each(cases)("$name: $seen against $wanted is $want", ({ seen, wanted, want }) => {
    expect(isResourceVersionAtLeast(seen, wanted)).toBe(want);
  });
});
