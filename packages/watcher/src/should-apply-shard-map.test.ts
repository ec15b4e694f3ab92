import { describe, expect, it } from "vitest";
import { shouldApplyShardMap, type ShardMapVersion } from "./should-apply-shard-map.js";

const map = (publishedBy: string, leaderEpoch: number, epoch: number): ShardMapVersion => ({
  publishedBy,
  leaderEpoch,
  epoch,
});

describe("shouldApplyShardMap", () => {
  it.each([
    { name: "the first map", applied: undefined, candidate: map("a", 3, 1), want: true },
    { name: "the same map again", applied: map("a", 3, 4), candidate: map("a", 3, 4), want: true },
    {
      name: "a later map of the term",
      applied: map("a", 3, 4),
      candidate: map("a", 3, 5),
      want: true,
    },
    {
      name: "an earlier map of the same term (a stale read)",
      applied: map("a", 3, 4),
      candidate: map("a", 3, 2),
      want: false,
    },
    {
      name: "a new leader's map from epoch 1 after Redis restarted empty",
      applied: map("a", 3, 9),
      candidate: map("b", 4, 1),
      want: true,
    },
    {
      name: "a new leader whose lease epoch restarted at 1 too (every applier restarted)",
      applied: map("a", 3, 9),
      candidate: map("b", 1, 1),
      want: true,
    },
    {
      name: "the same process re-acquiring under a new lease epoch",
      applied: map("a", 3, 9),
      candidate: map("a", 5, 1),
      want: true,
    },
  ])("$name → $want", ({ applied, candidate, want }) => {
    expect(shouldApplyShardMap(applied, candidate)).toBe(want);
  });
});
