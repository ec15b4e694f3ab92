import { describe, expect, it } from "vitest";
import { createMemoryFleetState, createMemoryFleetStore } from "./create-memory-fleet-state.js";
import { createManualClock } from "./testing/create-manual-clock.js";
import { describeFleetStateContract } from "./testing/describe-fleet-state-contract.js";

describeFleetStateContract("memory", (options) => {
  const clock = createManualClock();
  const store = createMemoryFleetStore();
  return Promise.resolve({
    first: createMemoryFleetState({ ...options, clock, store }),
    second: createMemoryFleetState({ ...options, clock, store }),
    now: () => clock.now(),
    advance: (ms) => clock.advance(ms),
    flushAll: () => {
      store.clear();
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  });
});

describe("createMemoryFleetState", () => {
  it("keeps clients on different stores apart", async () => {
    const one = createMemoryFleetState();
    const two = createMemoryFleetState();
    await one.writeStatus("c1", {
      phase: "Converged",
      reason: "NothingToDo",
      message: "",
      updatedAt: 1,
    });
    expect(await two.readStatuses()).toEqual({});
  });

  it("does not let a caller change stored data through the objects it passed or got back", async () => {
    const state = createMemoryFleetState();
    const assignments: Record<string, string> = { c1: "w1" };
    const lease = await state.acquireOrRenew("a", 60_000);
    await state.publishShardMap({ epoch: 1, assignments }, lease);
    assignments["c1"] = "w2";
    const read = await state.readShardMap();
    (read!.assignments as Record<string, string>)["c1"] = "w3";
    expect((await state.readShardMap())?.assignments).toEqual({ c1: "w1" });
  });

  it("refuses a store it did not make", () => {
    expect(() => createMemoryFleetState({ store: { clear: () => undefined } })).toThrow(TypeError);
  });
});
