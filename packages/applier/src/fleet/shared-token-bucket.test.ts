import { createMemoryFleetState } from "@rrfleet/fleet-state";
import { describe, expect, it } from "vitest";
import { createFakeClock } from "../testing/fake-clock.js";
import { createSharedTokenBucket } from "./shared-token-bucket.js";

describe("createSharedTokenBucket", () => {
  it("takes a token from every bucket and waits for the slowest one", async () => {
    const clock = createFakeClock();
    const state = createMemoryFleetState({ clock });
    const cluster = { key: "cluster/east", shape: { ratePerSecond: 10, burst: 1 } };
    const global = { key: "global", shape: { ratePerSecond: 1, burst: 2 } };
    const bucket = createSharedTokenBucket(state, [cluster, global], clock);

    const waits = [await bucket.take(), await bucket.take(), await bucket.take()];

    // 1st: both have tokens. 2nd: the cluster bucket refills in 100 ms, the global one still
    // has its burst. 3rd: the global bucket is empty and refills at 1/s.
    expect(waits[0]).toBe(0);
    expect(waits[1]).toBe(100);
    expect(waits[2]).toBeGreaterThan(800);
    expect(clock.slept()).toBe(waits[1]! + waits[2]!);
  });

  it("shares the budget between buckets built separately (as successive leaders do)", async () => {
    const clock = createFakeClock();
    const state = createMemoryFleetState({ clock });
    const shape = { ratePerSecond: 1, burst: 1 };
    const first = createSharedTokenBucket(state, [{ key: "cluster/east", shape }], clock);
    const second = createSharedTokenBucket(state, [{ key: "cluster/east", shape }], clock);

    expect(await first.take()).toBe(0);
    expect(await second.take()).toBeGreaterThan(0);
  });
});
