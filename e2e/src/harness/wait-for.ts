import { setTimeout as sleep } from "node:timers/promises";

/** How long and how often {@link waitFor} polls. */
export interface WaitForOptions {
  /** What is awaited, for the timeout message, e.g. "etcd /health". */
  readonly description: string;
  /** Default 60,000 ms. */
  readonly timeoutMs?: number;
  /** Default 100 ms. */
  readonly intervalMs?: number;
  /** Checked before every probe; a returned message aborts the wait (e.g. "process exited"). */
  readonly abortIf?: () => string | undefined;
  /** Whether a probe that throws means "not yet" (default true) or fails the wait at once. */
  readonly retryErrors?: boolean;
}

/**
 * Polls `probe` until it returns a value other than `undefined`, and returns that value. A probe
 * that throws counts as "not yet" (its last error is reported on timeout) unless `retryErrors` is
 * false. Throws on timeout or when `abortIf` returns a message.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  options: WaitForOptions,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    let lastProblem: string;
    const abort = options.abortIf?.();
    if (abort !== undefined) throw new Error(`${options.description}: ${abort}`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
      lastProblem = "not ready";
    } catch (err: unknown) {
      if (options.retryErrors === false) throw err;
      lastProblem = err instanceof Error ? err.message : String(err);
    }
    if (performance.now() >= deadline) {
      throw new Error(
        `${options.description}: not ready after ${timeoutMs} ms (last: ${lastProblem})`,
      );
    }
    await sleep(intervalMs);
  }
}
