import type { Clock } from "../clock.js";

/** A {@link Clock} that moves only when told; sleeps finish when it passes their end. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms` (wall and monotonic) and finishes the sleeps that end by then, in order. */
  advance(ms: number): Promise<void>;
  /**
   * Steps the wall clock alone by `ms` (negative: back), as NTP or an operator setting the
   * time does; monotonic time and sleeps are not affected.
   */
  stepWallClock(ms: number): void;
}

/** Starts at `start` (epoch ms). */
export function createManualClock(start = Date.parse("2026-06-01T12:00:00Z")): ManualClock {
  /** Monotonic milliseconds since the clock was made. */
  let elapsed = 0;
  let wallOffset = start;
  const sleepers = new Set<{ readonly until: number; readonly wake: () => void }>();
  return {
    now: () => wallOffset + elapsed,
    monotonicNow: () => elapsed,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted === true) {
          reject(signal.reason as Error);
          return;
        }
        const sleeper = {
          until: elapsed + ms,
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
    stepWallClock(ms) {
      wallOffset += ms;
    },
    async advance(ms) {
      elapsed += ms;
      const due = [...sleepers].filter((s) => s.until <= elapsed).sort((a, b) => a.until - b.until);
      for (const sleeper of due) {
        sleepers.delete(sleeper);
        sleeper.wake();
      }
      // Let the woken code run (and perhaps sleep again) before the caller goes on.
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}
