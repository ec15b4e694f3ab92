/**
 * Waiters for a condition that turns true once (a watch cache synced, a registry loaded) or is
 * given up on (stopped).
 */
export interface ReadinessGate {
  /**
   * Resolves when `isReady()` holds (at once if it already does); rejects with the reason given to
   * {@link ReadinessGate.close}, or with the signal's reason when it aborts first.
   */
  wait(signal?: AbortSignal): Promise<void>;
  /** Re-checks `isReady()` and releases every waiter when it holds; call it after each change. */
  check(): void;
  /** Rejects every waiter, now and later, with `reason`; idempotent (the first reason stays). */
  close(reason: Error): void;
}

/** Creates a {@link ReadinessGate}; `toAbortError` turns an abort signal's reason into an Error. */
export function createReadinessGate(
  isReady: () => boolean,
  toAbortError: (reason: unknown) => Error,
): ReadinessGate {
  const waiters = new Set<{ resolve: () => void; reject: (reason: Error) => void }>();
  let closed: Error | undefined;
  return {
    wait(signal) {
      if (closed !== undefined) return Promise.reject(closed);
      if (signal?.aborted === true) return Promise.reject(toAbortError(signal.reason));
      if (isReady()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const settle = (outcome: () => void): void => {
          waiters.delete(waiter);
          signal?.removeEventListener("abort", onAbort);
          outcome();
        };
        const onAbort = (): void => {
          settle(() => {
            reject(toAbortError(signal?.reason));
          });
        };
        const waiter = {
          resolve: () => {
            settle(resolve);
          },
          reject: (reason: Error) => {
            settle(() => {
              reject(reason);
            });
          },
        };
        waiters.add(waiter);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
    check() {
      if (!isReady()) return;
      for (const waiter of [...waiters]) waiter.resolve();
    },
    close(reason) {
      if (closed !== undefined) return;
      closed = reason;
      for (const waiter of [...waiters]) waiter.reject(reason);
    },
  };
}
