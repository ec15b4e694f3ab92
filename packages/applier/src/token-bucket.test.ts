import { describe, expect, it } from "vitest";
import { createFakeClock } from "./testing/fake-clock.js";
import { createTokenBucket } from "./token-bucket.js";

describe("createTokenBucket", () => {
  it("lets a burst through at once, then paces writes at the rate", async () => {
    const clock = createFakeClock();
    const bucket = createTokenBucket({ ratePerSecond: 10, burst: 3, clock });
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) waits.push(await bucket.take());
    expect(waits).toEqual([0, 0, 0, 100, 100, 100]);
  });

  it("queues concurrent takers in arrival order so the rate holds across them", async () => {
    const clock = createFakeClock();
    const bucket = createTokenBucket({ ratePerSecond: 2, burst: 1, clock });
    const waits = await Promise.all([bucket.take(), bucket.take(), bucket.take()]);
    expect(waits).toEqual([0, 500, 1000]);
  });

  it("refills while idle, but never above the burst", async () => {
    const clock = createFakeClock();
    const bucket = createTokenBucket({ ratePerSecond: 10, burst: 2, clock });
    await bucket.take();
    await bucket.take();
    await clock.sleep(10_000);
    const waits = [await bucket.take(), await bucket.take(), await bucket.take()];
    expect(waits).toEqual([0, 0, 100]);
  });

  it("gives the token back when the wait is aborted", async () => {
    const clock = createFakeClock();
    const bucket = createTokenBucket({ ratePerSecond: 1, burst: 1, clock });
    await bucket.take();
    const aborted = AbortSignal.abort(new Error("stop"));
    await expect(bucket.take(aborted)).rejects.toThrow("stop");
    expect(await bucket.take()).toBe(1000);
  });

  it("rejects a rate or burst that could never let a write through", () => {
    const clock = createFakeClock();
    expect(() => createTokenBucket({ ratePerSecond: 0, burst: 1, clock })).toThrow(RangeError);
    expect(() => createTokenBucket({ ratePerSecond: 1, burst: 0, clock })).toThrow(RangeError);
  });
});
