import type { Clock } from "@rrfleet/fleet-state";
import { sleepQuietly } from "../retry-policy.js";

/** Options of {@link runEvery}. */
export interface RunEveryOptions {
  /** Wait one period before the first run; default false (run at once). */
  readonly skipFirst?: boolean;
  /** Called with each failure of `task` (not after `signal` aborted); the loop goes on. */
  readonly onError?: (err: unknown) => void;
}

/**
 * Runs `task` now and then every `periodMs` (measured from the end of one run to the start of
 * the next) until `signal` aborts. A failing run is reported to `onError` and the loop goes on.
 */
export async function runEvery(
  clock: Clock,
  periodMs: number,
  signal: AbortSignal,
  task: () => Promise<void>,
  options: RunEveryOptions = {},
): Promise<void> {
  // A function, not `signal.aborted` inline: TypeScript narrows the property after the loop
  // test and cannot see the abort that happens during an await.
  const stopped = (): boolean => signal.aborted;
  let first = true;
  while (!stopped()) {
    if (!first || options.skipFirst === true) {
      await sleepQuietly(clock, periodMs, signal);
      if (stopped()) return;
    }
    first = false;
    try {
      await task();
    } catch (err: unknown) {
      if (stopped()) return;
      options.onError?.(err);
    }
  }
}
