import type { Clock } from "../clock.js";

/** A {@link Clock} that moves only when told; sleeps finish when it passes their end. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms` and finishes the sleeps that end by then, in order. */
  advance(ms: number): Promise<void>;
}

/** Starts at `start` (epoch ms). */
export function createManualClock(start = Date.parse("2026-06-01T12:00:00Z")): ManualClock {
  let now = start;
  const sleepers = new Set<{ readonly until: number; readonly wake: () => void }>();
  return {
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted === true) {
          reject(signal.reason as Error);
          return;
        }
        const sleeper = {
          until: now + ms,
          wake: () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          },
        };
        const onAbort = (): void => {
          sleepers.delete(sleeper);
          reject(signal?.reason as Error);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        sleepers.add(sleeper);
      }),
    async advance(ms) {
      now += ms;
      const due = [...sleepers].filter((s) => s.until <= now).sort((a, b) => a.until - b.until);
      for (const sleeper of due) {
        sleepers.delete(sleeper);
        sleeper.wake();
      }
      // Let the woken code run (and perhaps sleep again) before the caller goes on.
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}
