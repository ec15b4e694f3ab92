import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LEASE_DURATION_MS } from "./check-lease-timing.js";
import { decideLease, type LeaseDecision, type LeaseState } from "./decide-lease.js";
import { isWriteFenced } from "./is-write-fenced.js";

const RUNS = { numRuns: Number(process.env["FC_RUNS"] ?? 300) };
const NOW = 1_780_000_000_000;
const TTL = LEASE_DURATION_MS;

describe("decideLease", () => {
  const rows: {
    name: string;
    state: LeaseState;
    candidate: string;
    want: Partial<LeaseDecision>;
  }[] = [
    {
      name: "a candidate takes a lease nobody ever held, under epoch 1",
      state: { epoch: 0 },
      candidate: "a",
      want: {
        kind: "acquire",
        reason: "LeaseFree",
        lease: { holder: "a", epoch: 1, expiresAtMs: NOW + TTL },
      },
    },
    {
      name: "the holder renews its live lease under the same epoch, pushing the expiry out",
      state: { holder: "a", epoch: 4, expiresAtMs: NOW + 1 },
      candidate: "a",
      want: {
        kind: "renew",
        reason: "HeldByCandidate",
        lease: { holder: "a", epoch: 4, expiresAtMs: NOW + TTL },
      },
    },
    {
      name: "another candidate waits while the lease is live, and learns for how long",
      state: { holder: "a", epoch: 4, expiresAtMs: NOW + 5_000 },
      candidate: "b",
      want: {
        kind: "wait",
        reason: "HeldByOther",
        lease: { holder: "a", epoch: 4, expiresAtMs: NOW + 5_000 },
        remainingMs: 5_000,
      },
    },
    {
      name: "another candidate takes the lease at the instant it expires, under the next epoch",
      state: { holder: "a", epoch: 4, expiresAtMs: NOW },
      candidate: "b",
      want: {
        kind: "acquire",
        reason: "LeaseExpired",
        previousHolder: "a",
        lease: { holder: "b", epoch: 5, expiresAtMs: NOW + TTL },
      },
    },
    {
      name: "a holder that let its lease expire comes back under a new epoch, not a renewal",
      state: { holder: "a", epoch: 4, expiresAtMs: NOW - 1 },
      candidate: "a",
      want: {
        kind: "acquire",
        reason: "LeaseExpired",
        previousHolder: "a",
        lease: { holder: "a", epoch: 5, expiresAtMs: NOW + TTL },
      },
    },
    {
      name: "a held lease without an expiry counts as expired (nothing could ever free it)",
      state: { holder: "a", epoch: 9 },
      candidate: "b",
      want: {
        kind: "acquire",
        reason: "LeaseExpired",
        lease: { holder: "b", epoch: 10, expiresAtMs: NOW + TTL },
      },
    },
    {
      name: "a lease released by its holder (no holder, epoch kept) is free under the next epoch",
      state: { epoch: 6, expiresAtMs: NOW + 9_000 },
      candidate: "b",
      want: {
        kind: "acquire",
        reason: "LeaseFree",
        lease: { holder: "b", epoch: 7, expiresAtMs: NOW + TTL },
      },
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(decideLease(row.state, row.candidate, NOW, TTL)).toMatchObject(row.want);
    });
  }

  const invalid: {
    name: string;
    state: LeaseState;
    candidate: string;
    now: number;
    ttl: number;
    wantMessage: string;
  }[] = [
    {
      name: "an empty candidate",
      state: { epoch: 0 },
      candidate: "",
      now: NOW,
      ttl: TTL,
      wantMessage: "candidate",
    },
    {
      name: "a zero ttl",
      state: { epoch: 0 },
      candidate: "a",
      now: NOW,
      ttl: 0,
      wantMessage: "ttlMs",
    },
    {
      name: "a time that is not a number",
      state: { epoch: 0 },
      candidate: "a",
      now: Number.NaN,
      ttl: TTL,
      wantMessage: "nowMs",
    },
    {
      name: "a negative epoch",
      state: { epoch: -1 },
      candidate: "a",
      now: NOW,
      ttl: TTL,
      wantMessage: "epoch",
    },
    {
      name: "a fractional epoch",
      state: { epoch: 1.5 },
      candidate: "a",
      now: NOW,
      ttl: TTL,
      wantMessage: "epoch",
    },
  ];
  for (const row of invalid) {
    it(`throws a RangeError on ${row.name}`, () => {
      expect(() => decideLease(row.state, row.candidate, row.now, row.ttl)).toThrow(RangeError);
      expect(() => decideLease(row.state, row.candidate, row.now, row.ttl)).toThrow(
        row.wantMessage,
      );
    });
  }
});

describe("decideLease over random histories", () => {
  // Each step: a candidate asks after some time has passed (sometimes longer than the lease).
  const historyArb = fc.array(
    fc.record({
      candidate: fc.constantFrom("a", "b", "c"),
      advanceMs: fc.oneof(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 0, max: 2 * TTL })),
    }),
    { maxLength: 80 },
  );

  it("raises the epoch by exactly one on each acquisition and never otherwise", () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        let state: LeaseState = { epoch: 0 };
        let now = NOW;
        let acquisitions = 0;
        for (const { candidate, advanceMs } of history) {
          now += advanceMs;
          const decision = decideLease(state, candidate, now, TTL);
          expect(decision.lease.epoch).toBe(state.epoch + (decision.kind === "acquire" ? 1 : 0));
          if (decision.kind === "acquire") acquisitions++;
          if (decision.kind !== "wait") state = decision.lease;
          else expect(decision.lease).toEqual(state);
        }
        expect(state.epoch).toBe(acquisitions);
      }),
      RUNS,
    );
  });

  it("gives a live lease to nobody but its holder, and renews only live leases", () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        let state: LeaseState = { epoch: 0 };
        let now = NOW;
        for (const { candidate, advanceMs } of history) {
          now += advanceMs;
          const live =
            state.holder !== undefined &&
            state.expiresAtMs !== undefined &&
            now < state.expiresAtMs;
          const decision = decideLease(state, candidate, now, TTL);
          if (live && state.holder !== candidate) expect(decision.kind).toBe("wait");
          if (decision.kind === "renew") expect(live).toBe(true);
          if (decision.kind !== "wait") state = decision.lease;
        }
      }),
      RUNS,
    );
  });

  it("fences every write a former holder makes after someone else acquired the lease", () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        let state: LeaseState = { epoch: 0 };
        let now = NOW;
        // The epoch each candidate believes it leads under (from its last acquire or renew).
        const believed = new Map<string, number>();
        for (const { candidate, advanceMs } of history) {
          now += advanceMs;
          const decision = decideLease(state, candidate, now, TTL);
          if (decision.kind !== "wait") {
            state = decision.lease;
            believed.set(candidate, decision.lease.epoch);
          }
          for (const [who, epoch] of believed) {
            expect(isWriteFenced(epoch, state.epoch)).toBe(who !== state.holder);
          }
        }
      }),
      RUNS,
    );
  });
});
