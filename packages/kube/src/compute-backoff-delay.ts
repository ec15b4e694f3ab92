/** Exponential backoff bounds in milliseconds. */
export interface BackoffBounds {
  /** Cap of the first delay. */
  readonly initialMs: number;
  /** Cap of every delay. */
  readonly maxMs: number;
}

/**
 * Decides how long to wait before retry number `attempt` (0 for the first retry): "full jitter",
 * a uniform draw in [0, min(maxMs, initialMs × 2^attempt)), in whole milliseconds. Full jitter
 * spreads the reconnects of many watchers over the whole window, so an API server coming back
 * is not hit by all of them at once. `random` returns [0, 1) like `Math.random`. Throws a
 * RangeError for a negative or non-integer attempt or bounds that are not finite and ordered.
 */
export function computeBackoffDelay(
  attempt: number,
  bounds: BackoffBounds,
  random: () => number,
): number {
  if (!Number.isInteger(attempt) || attempt < 0) {
    throw new RangeError(`backoff attempt must be a non-negative integer (got ${attempt})`);
  }
  const { initialMs, maxMs } = bounds;
  if (!(
    Number.isFinite(initialMs) &&
    Number.isFinite(maxMs) &&
    0 < initialMs &&
    initialMs <= maxMs
  )) {
    throw new RangeError(
      `backoff needs 0 < initialMs <= maxMs, both finite (got ${initialMs} and ${maxMs})`,
    );
  }
  // 2^attempt overflows to Infinity long after it passed maxMs; min() keeps it bounded.
  const cap = Math.min(maxMs, initialMs * 2 ** attempt);
  const draw = Math.min(Math.max(random(), 0), 1);
  return Math.min(Math.floor(draw * cap), Math.max(cap - 1, 0));
}
