import { KubeError, type ObservedRef, type WriteResult } from "@rrfleet/kube";
import type { Clock } from "@rrfleet/fleet-state";

/** What a watch must answer for {@link waitForObserved} (`@rrfleet/kube`'s `ClusterWatch` fits it). */
export interface ObservingView {
  hasObserved(ref: ObservedRef): boolean;
  subscribe(listener: () => void): () => void;
}

/** Options of {@link waitForObserved}. */
export interface WaitForObservedOptions {
  readonly clock: Clock;
  readonly timeoutMs: number;
  /** Re-check at least this often even without a notification; default 100 ms. */
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Waits until the watch cache shows every write (at its resourceVersion or later, or gone after
 * a delete), so that the next plan reads our own writes. Throws a retryable KubeError
 * `Unavailable` naming the first unseen object when `timeoutMs` passes: a watch that lags that
 * much is itself a problem worth surfacing.
 */
export async function waitForObserved(
  view: ObservingView,
  writes: readonly WriteResult[],
  options: WaitForObservedOptions,
): Promise<void> {
  const deadline = options.clock.now() + options.timeoutMs;
  const unseen = (): WriteResult | undefined =>
    writes.find(
      (write) =>
        !view.hasObserved({
          kind: write.kind,
          name: write.name,
          ...(write.deleted
            ? { deleted: true }
            : write.resourceVersion === undefined
              ? {}
              : { resourceVersion: write.resourceVersion }),
        }),
    );
  let wake: (() => void) | undefined;
  const unsubscribe = view.subscribe(() => {
    wake?.();
  });
  try {
    for (;;) {
      const missing = unseen();
      if (missing === undefined) return;
      const left = deadline - options.clock.now();
      if (left <= 0) {
        throw new KubeError(
          "Unavailable",
          `the watch has not shown our write of ${missing.kind} "${missing.name}" after ${options.timeoutMs} ms`,
          { retryable: true },
        );
      }
      const tick = new AbortController();
      const onAbort = (): void => {
        tick.abort(options.signal?.reason);
      };
      options.signal?.addEventListener("abort", onAbort, { once: true });
      wake = () => {
        tick.abort();
      };
      try {
        await options.clock.sleep(Math.min(left, options.pollMs ?? 100), tick.signal);
      } catch (err: unknown) {
        // Woken by a notification: check again. An abort of the caller's signal is rethrown.
        options.signal?.throwIfAborted();
        if (!tick.signal.aborted) throw err;
      } finally {
        options.signal?.removeEventListener("abort", onAbort);
      }
    }
  } finally {
    unsubscribe();
  }
}
