import { describe, expect, it } from "vitest";
import { createLazyMap } from "./lazy-map.js";

describe("createLazyMap", () => {
  it("builds the map once, on first read, and reads like the map it built", () => {
    let builds = 0;
    const lazy = createLazyMap(() => {
      builds++;
      return new Map([
        ["a", 1],
        ["b", 2],
      ]);
    });
    expect(builds).toBe(0);
    expect(lazy.get("a")).toBe(1);
    expect(lazy.has("c")).toBe(false);
    expect(lazy.size).toBe(2);
    expect([...lazy]).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
    expect([...lazy.keys()]).toEqual(["a", "b"]);
    expect([...lazy.values()]).toEqual([1, 2]);
    expect([...lazy.entries()]).toEqual([...lazy]);
    const seen: string[] = [];
    lazy.forEach((value, key) => seen.push(`${key}=${value}`));
    expect(seen).toEqual(["a=1", "b=2"]);
    expect(builds).toBe(1);
  });
});
