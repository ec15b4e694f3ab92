/**
 * Time as the shared state and the applier see it. Production passes {@link systemClock}; tests
 * pass a manual clock, so expiries, waits and backoffs never sleep for real in a unit test.
 */
export interface Clock {
  /** Milliseconds since the epoch: the wall clock, for timestamps people and other hosts read. */
  now(): number;
  /**
   * Milliseconds from an arbitrary origin that never goes back and does not follow wall-clock
   * steps (NTP, an operator setting the time): for measuring how long something took or may
   * still last in this process, such as the leader's acting window. Not comparable across
   * processes.
   */
  monotonicNow(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The wall clock and real timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonicNow: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(signal.reason as Error);
        return;
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};
