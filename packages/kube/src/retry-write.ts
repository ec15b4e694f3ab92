import { computeBackoffDelay, type BackoffBounds } from "./compute-backoff-delay.js";
import { KubeError } from "./kube-error.js";

/** How {@link retryWrite} paces and bounds its attempts. */
export interface WriteRetryPolicy {
  /** Write requests at most, the first included. */
  readonly maxAttempts: number;
  /** Bounds of the jittered exponential backoff after 5xx and network errors. */
  readonly backoff: BackoffBounds;
  /** Waits; rejects with `signal.reason` on abort. */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** [0, 1), like `Math.random`: the backoff's jitter. */
  readonly random: () => number;
}

/** What a write does after a 409: send again (the attempt re-reads its state) or stop with a value. */
export type ConflictResolution<T> =
  { readonly kind: "retry" } | { readonly kind: "done"; readonly value: T };

/** Wait after a 429 whose answer named no Retry-After. */
const DEFAULT_RETRY_AFTER_MS = 1_000;

/**
 * Runs one write with the API server's retry rules: a 409 goes to `resolveConflict` (which
 * re-reads the object and decides to retry, to finish, or throws); a 429 waits Retry-After
 * (default 1 s); retryable 5xx and network errors wait a full-jitter exponential backoff (or the
 * server's Retry-After when it sent one); everything else is thrown at once. At most
 * `maxAttempts` write requests; then the last {@link KubeError} is thrown. An abort of `signal`
 * rejects with `signal.reason`, between attempts as well as during one.
 */
export async function retryWrite<T>(
  attempt: () => Promise<T>,
  resolveConflict: (error: KubeError) => Promise<ConflictResolution<T>>,
  policy: WriteRetryPolicy,
  signal?: AbortSignal,
): Promise<T> {
  let backoffs = 0;
  for (let sent = 1; ; sent++) {
    signal?.throwIfAborted();
    let error: KubeError;
    try {
      return await attempt();
    } catch (err: unknown) {
      // An aborted fetch surfaces as a retryable network error: the caller's reason wins.
      signal?.throwIfAborted();
      if (!(err instanceof KubeError)) throw err;
      error = err;
    }
    const exhausted = sent >= policy.maxAttempts;
    let delayMs = 0;
    switch (error.code) {
      case "Conflict": {
        if (exhausted) throw error;
        const resolution = await resolveConflict(error);
        if (resolution.kind === "done") return resolution.value;
        break;
      }
      case "TooManyRequests":
        if (exhausted) throw error;
        delayMs =
          error.retryAfterSeconds === undefined
            ? DEFAULT_RETRY_AFTER_MS
            : error.retryAfterSeconds * 1_000;
        break;
      case "ServerError":
      case "Unavailable":
        if (exhausted || !error.retryable) throw error;
        delayMs =
          error.retryAfterSeconds === undefined
            ? computeBackoffDelay(backoffs++, policy.backoff, policy.random)
            : error.retryAfterSeconds * 1_000;
        break;
      default:
        throw error;
    }
    if (delayMs > 0) await policy.sleep(delayMs, signal);
  }
}
