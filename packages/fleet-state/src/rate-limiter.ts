/** A token bucket's shape and one request against it. */
export interface TokenRequest {
  /** Sustained tokens per second (> 0). */
  readonly ratePerSecond: number;
  /** Tokens available at once after a quiet period (>= 1). */
  readonly burst: number;
  /** Tokens to take; default 1. */
  readonly n?: number;
}

/**
 * Port: token buckets shared by every process (per-cluster and global write budgets).
 * Reservations: a take always succeeds and may drive the balance negative; the caller waits the
 * returned time before acting, so the rate holds however many processes take concurrently.
 */
export interface RateLimiter {
  /**
   * Takes `n` tokens from `bucketKey` and resolves with the milliseconds to wait before using
   * them (0 when they were there). Refill is measured on the store's clock (Redis TIME).
   * Throws `Invalid` on a bad key, rate <= 0, burst < 1 or n <= 0.
   */
  takeTokens(bucketKey: string, request: TokenRequest): Promise<number>;
}
