import type { Clock, RateLimiter, TokenRequest } from "@rrfleet/fleet-state";
import type { TokenBucket } from "../token-bucket.js";

/** One shared bucket: its key in the store and its shape. */
export interface SharedBucket {
  readonly key: string;
  readonly shape: Omit<TokenRequest, "n">;
}

/**
 * A {@link TokenBucket} drawing one token from each of several shared buckets (the cluster's
 * and the fleet's global one) and waiting for the slowest. The buckets live in the shared
 * state, so the budgets hold across leader changes: a new leader cannot burst a cluster the old
 * one just wrote to. Reservations (see `RateLimiter`) keep it fair under concurrency.
 */
export function createSharedTokenBucket(
  limiter: RateLimiter,
  buckets: readonly SharedBucket[],
  clock: Clock,
): TokenBucket {
  return {
    take: async (signal) => {
      signal?.throwIfAborted();
      const waits = await Promise.all(
        buckets.map((bucket) => limiter.takeTokens(bucket.key, bucket.shape)),
      );
      const waitMs = Math.max(0, ...waits);
      if (waitMs > 0) await clock.sleep(waitMs, signal);
      return waitMs;
    },
  };
}
