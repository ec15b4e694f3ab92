import { createMemoryFleetState, type Clock, type LeaderLease } from "@rrfleet/fleet-state";
import { createManualClock } from "@rrfleet/fleet-state/testing";
import { describe, expect, it } from "vitest";
import { campaignForLeadership, type LeaderElectionOptions } from "./leader-election.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const timing = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

function options(lease: LeaderLease, clock: Clock, candidateId: string): LeaderElectionOptions {
  return { lease, candidateId, timing, clock, logger: silent, random: () => 0 };
}

/** Lets promise chains and due timers of the fake clock run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe("campaignForLeadership", () => {
  it("makes one candidate leader with epoch 1 and keeps the other waiting", async () => {
    const clock = createManualClock();
    const state = createMemoryFleetState({ clock });
    const stop = new AbortController();

    const a = await campaignForLeadership(options(state, clock, "a"), stop.signal);
    let bLeads = false;
    const b = campaignForLeadership(options(state, clock, "b"), stop.signal).then((l) => {
      bLeads = true;
      return l;
    });
    for (let i = 0; i < 20; i++) {
      await clock.advance(1_000);
      await settle();
    }

    expect(a.epoch).toBe(1);
    expect(() => {
      a.assertCurrent();
    }).not.toThrow();
    expect(bLeads).toBe(false);
    await a.release();
    for (let i = 0; i < 3; i++) {
      await clock.advance(2_000);
      await settle();
    }
    expect(bLeads).toBe(true);
    expect((await b).epoch).toBe(2);
    stop.abort();
  });

  it("ends leadership at the renew deadline when the store is unreachable, and refuses to act from then on", async () => {
    const clock = createManualClock();
    const state = createMemoryFleetState({ clock });
    let reachable = true;
    const flaky: LeaderLease = {
      acquireOrRenew: (...args) =>
        reachable ? state.acquireOrRenew(...args) : Promise.reject(new Error("connection refused")),
      release: (...args) => state.release(...args),
    };
    const leadership = await campaignForLeadership(
      options(flaky, clock, "a"),
      new AbortController().signal,
    );

    reachable = false;
    await clock.advance(9_000);
    await settle();
    expect(() => {
      leadership.assertCurrent();
    }).not.toThrow();
    expect(leadership.signal.aborted).toBe(false);

    await clock.advance(1_000);
    await settle();
    expect(() => {
      leadership.assertCurrent();
    }).toThrow(/RenewDeadlineExceeded/);
    expect(leadership.signal.aborted).toBe(true);
    await expect(leadership.ended).resolves.toBe("RenewDeadlineExceeded");
  });

  it("measures its acting window on a monotonic clock: a wall clock stepped back does not extend it", async () => {
    const clock = createManualClock();
    const state = createMemoryFleetState({ clock });
    let reachable = true;
    const flaky: LeaderLease = {
      acquireOrRenew: (...args) =>
        reachable ? state.acquireOrRenew(...args) : Promise.reject(new Error("connection refused")),
      release: (...args) => state.release(...args),
    };
    const leadership = await campaignForLeadership(
      options(flaky, clock, "a"),
      new AbortController().signal,
    );

    reachable = false;
    await clock.advance(5_000);
    await settle();
    // NTP (or a person) sets the wall clock back a minute while renewals fail.
    clock.stepWallClock(-60_000);
    await clock.advance(5_000);
    await settle();

    // 10 s have passed since the last renewal was sent: the renew deadline, whatever the wall says.
    expect(() => {
      leadership.assertCurrent();
    }).toThrow(/RenewDeadlineExceeded/);
    expect(leadership.signal.aborted).toBe(true);
  });

  it("refuses to act the moment a paused process wakes past its deadline, before any renewal runs", async () => {
    const manual = createManualClock();
    let paused = 0;
    // The wall clock moves on while no timer of the process fires (SIGSTOP, then SIGCONT).
    const clock: Clock = {
      now: () => manual.now() + paused,
      // A stopped process's monotonic clock runs on too (CLOCK_MONOTONIC counts while stopped).
      monotonicNow: () => manual.monotonicNow() + paused,
      sleep: (ms, signal) => manual.sleep(ms, signal),
    };
    const state = createMemoryFleetState({ clock });
    const leadership = await campaignForLeadership(
      options(state, clock, "a"),
      new AbortController().signal,
    );

    paused = 20_000;

    expect(() => {
      leadership.assertCurrent();
    }).toThrow(/over/);
    expect(leadership.signal.aborted).toBe(true);
  });

  it("ends leadership when a renewal finds another holder", async () => {
    const clock = createManualClock();
    const state = createMemoryFleetState({ clock });
    let stolen = false;
    const lease: LeaderLease = {
      acquireOrRenew: async (...args) => {
        const held = await state.acquireOrRenew(...args);
        return stolen ? { ...held, held: false, holder: "b", epoch: held.epoch + 1 } : held;
      },
      release: (...args) => state.release(...args),
    };
    const leadership = await campaignForLeadership(
      options(lease, clock, "a"),
      new AbortController().signal,
    );

    stolen = true;
    await clock.advance(2_000);
    await settle();

    await expect(leadership.ended).resolves.toBe("HeldByOther");
    expect(() => {
      leadership.assertCurrent();
    }).toThrow();
  });

  it("acquires above a minimum epoch seen in the clusters", async () => {
    const clock = createManualClock();
    const state = createMemoryFleetState({ clock });

    const leadership = await campaignForLeadership(
      { ...options(state, clock, "a"), minEpoch: 41 },
      new AbortController().signal,
    );

    expect(leadership.epoch).toBe(42);
  });

  it("rejects with the signal's reason when stopped while standing by", async () => {
    const clock = createManualClock();
    const state = createMemoryFleetState({ clock });
    await state.acquireOrRenew("other", 60_000);
    const stop = new AbortController();

    const campaign = campaignForLeadership(options(state, clock, "a"), stop.signal);
    const rejected = expect(campaign).rejects.toThrow("SIGTERM");
    await settle();
    stop.abort(new Error("SIGTERM"));
    await clock.advance(2_000);

    await rejected;
  });
});
