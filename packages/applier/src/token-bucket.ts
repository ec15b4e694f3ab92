import type { Clock } from "@rrfleet/fleet-state";

/** Options of {@link createTokenBucket}. */
export interface TokenBucketOptions {
  /** Sustained writes per second (client-go's default is 5, Argo CD's 50 per cluster). */
  readonly ratePerSecond: number;
  /** Writes allowed at once after a quiet period. */
  readonly burst: number;
  readonly clock: Clock;
}

/** A write budget: every write takes one token. */
export interface TokenBucket {
  /** Waits until a token is free and takes it; resolves with the milliseconds waited. */
  take(signal?: AbortSignal): Promise<number>;
}

/**
 * A token bucket with reservations: concurrent callers queue in arrival order because each one
 * reserves its token (the balance may go negative) before sleeping, so the rate holds however
 * many writes run in parallel. Throws RangeError on a non-positive rate or burst below 1.
 */
export function createTokenBucket(options: TokenBucketOptions): TokenBucket {
  const { ratePerSecond, burst, clock } = options;
  if (!(ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be > 0, got ${ratePerSecond}`);
  if (!(burst >= 1)) throw new RangeError(`burst must be >= 1, got ${burst}`);
  let tokens = burst;
  let refilledAt = clock.now();
  return {
    async take(signal) {
      const now = clock.now();
      tokens = Math.min(burst, tokens + ((now - refilledAt) / 1000) * ratePerSecond);
      refilledAt = now;
      tokens -= 1;
      if (tokens >= 0) return 0;
      const waitMs = Math.ceil((-tokens / ratePerSecond) * 1000);
      try {
        await clock.sleep(waitMs, signal);
      } catch (err: unknown) {
        tokens += 1; // the write will not happen: give the reservation back
        throw err;
      }
      return waitMs;
    },
  };
}
