/**
 * A write budget: every write takes one token. `createSharedTokenBucket` (fleet/) builds it on
 * the shared state's rate limiter, in Redis or in memory.
 */
export interface TokenBucket {
  /** Waits until a token is free and takes it; resolves with the milliseconds waited. */
  take(signal?: AbortSignal): Promise<number>;
}
