/**
 * Waits `ms` milliseconds (0 or less: the next macrotask). Rejects with `signal.reason` as soon
 * as `signal` aborts (also when it already has), the way `fetch` and Node's timers do, so an
 * aborted caller sees its own reason and not a timer error.
 */
export function sleepWithSignal(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
