import type { Clock } from "./clock.js";
import type { DirtyEntry } from "./dirty-queue.js";

/** One look at the queue. */
export interface DirtyAttempt {
  readonly entries: DirtyEntry[];
  /** Milliseconds until the next taken entry becomes due again, if any is taken. */
  readonly nextDueInMs: number | undefined;
}

/** How {@link waitForDirty} waits between looks. */
export interface DirtyWait {
  readonly clock: Clock;
  readonly timeoutMs: number;
  /** Look again at least this often (stores that cannot notify); undefined to rely on `subscribe`. */
  readonly pollMs?: number;
  /** Calls `wake` when a mark may have made an entry due; returns the unsubscribe function. */
  readonly subscribe?: (wake: () => void) => () => void;
  readonly signal?: AbortSignal;
}

/**
 * Looks at the queue until it yields entries or `timeoutMs` passes (then resolves `[]`),
 * sleeping until a notification, the next redelivery or the next poll, whichever comes first.
 * Rejects with the signal's reason when it aborts.
 */
export async function waitForDirty(
  attempt: () => Promise<DirtyAttempt>,
  wait: DirtyWait,
): Promise<DirtyEntry[]> {
  const { clock, signal } = wait;
  const deadline = clock.now() + wait.timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    const { entries, nextDueInMs } = await attempt();
    if (entries.length > 0) return entries;
    const left = deadline - clock.now();
    if (left <= 0) return [];
    const sleepMs = Math.max(1, Math.min(left, nextDueInMs ?? Infinity, wait.pollMs ?? Infinity));
    await sleepUntilWoken(clock, sleepMs, wait.subscribe, signal);
  }
}

async function sleepUntilWoken(
  clock: Clock,
  ms: number,
  subscribe: DirtyWait["subscribe"],
  signal: AbortSignal | undefined,
): Promise<void> {
  const woken = new AbortController();
  const unsubscribe = subscribe?.(() => {
    woken.abort(new Error("woken"));
  });
  try {
    await clock.sleep(
      ms,
      signal === undefined ? woken.signal : AbortSignal.any([signal, woken.signal]),
    );
  } catch (err: unknown) {
    // Being woken ends the sleep early by design; the caller's abort or a clock failure do not.
    if (signal?.aborted === true || !woken.signal.aborted) throw err;
  } finally {
    unsubscribe?.();
  }
}
