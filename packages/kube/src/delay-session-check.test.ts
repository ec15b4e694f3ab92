import { describe, expect, it } from "vitest";
import { createDelaySessionCheck } from "./delay-session-check.js";

describe("createDelaySessionCheck", () => {
  it("waits the delay and reports every distinct pair as unverifiable", async () => {
    const sleeps: number[] = [];
    const check = createDelaySessionCheck({
      delayMs: 2_500,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    });

    const result = await check.waitForSessions([
      { node: "rr", peer: "c1" },
      { node: "rr", peer: "c2" },
      { node: "rr", peer: "c1" },
    ]);

    expect(sleeps).toEqual([2_500]);
    expect(result).toEqual({
      established: 0,
      missing: [],
      unverifiable: [
        { node: "rr", peer: "c1" },
        { node: "rr", peer: "c2" },
      ],
    });
  });

  it("does not wait when there is nothing to wait for", async () => {
    const sleeps: number[] = [];
    const check = createDelaySessionCheck({
      delayMs: 2_500,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    });

    await expect(check.waitForSessions([])).resolves.toEqual({
      established: 0,
      missing: [],
      unverifiable: [],
    });
    expect(sleeps).toEqual([]);
  });

  it("rejects with the abort reason (real timer)", async () => {
    const check = createDelaySessionCheck({ delayMs: 60_000 });
    const controller = new AbortController();
    const reason = new Error("stop");

    const waiting = check.waitForSessions([{ node: "rr", peer: "c1" }], controller.signal);
    controller.abort(reason);

    await expect(waiting).rejects.toBe(reason);
  });
});
