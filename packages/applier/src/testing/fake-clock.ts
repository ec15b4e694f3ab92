import type { Clock } from "@rrfleet/fleet-state";

/** A {@link Clock} whose sleeps finish at once (on the next macrotask) and advance its time. */
export interface FakeClock extends Clock {
  /** Total milliseconds slept. */
  slept(): number;
}

/** Starts at `start` (epoch ms). */
export function createFakeClock(start = Date.parse("2026-06-01T12:00:00Z")): FakeClock {
  let now = start;
  let slept = 0;
  return {
    now: () => now,
    monotonicNow: () => now - start,
    slept: () => slept,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted === true) {
          reject(signal.reason as Error);
          return;
        }
        setImmediate(() => {
          if (signal?.aborted === true) {
            reject(signal.reason as Error);
            return;
          }
          now += ms;
          slept += ms;
          resolve();
        });
      }),
  };
}
