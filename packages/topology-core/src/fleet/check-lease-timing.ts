/**
 * Timing of the applier's leader lease, after client-go's leader election (which uses the same
 * defaults and the same rule). The rule keeps one leader at a time without trusting clocks to
 * agree: the holder gives up leadership (exits) once it has failed to renew for RenewDeadline,
 * which is before the lease it last wrote runs out (LeaseDuration), so by the time another
 * candidate may take the lease the old holder has already stopped; and it retries every
 * RetryPeriod (jittered by up to 1.2×, client-go's factor), so at least one renewal attempt fits
 * inside the deadline. Fencing (the epoch on every write) covers what timing cannot: a holder
 * paused longer than the lease.
 */

/** How long a written lease lasts before anyone may take it: 15,000 ms (client-go's 15 s). */
export const LEASE_DURATION_MS = 15_000;

/** How long the holder keeps acting without a successful renewal: 10,000 ms (client-go's 10 s). */
export const RENEW_DEADLINE_MS = 10_000;

/** How often the holder renews and candidates try to acquire: 2,000 ms (client-go's 2 s). */
export const RETRY_PERIOD_MS = 2_000;

/** client-go's jitter factor on the retry period: RenewDeadline must exceed 1.2 × RetryPeriod. */
export const RETRY_JITTER_FACTOR = 1.2;

/** The three durations of the leader lease, in milliseconds. */
export interface LeaseTiming {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

/** The defaults: 15 s / 10 s / 2 s. */
export const DEFAULT_LEASE_TIMING: LeaseTiming = {
  leaseDurationMs: LEASE_DURATION_MS,
  renewDeadlineMs: RENEW_DEADLINE_MS,
  retryPeriodMs: RETRY_PERIOD_MS,
};

/**
 * Checks LeaseDuration > RenewDeadline > 1.2 × RetryPeriod > 0 (all finite, in ms) and returns
 * one message per broken rule, naming the field; an empty list means the timing is safe. Never
 * throws: config parsing reports the messages with the rest.
 */
export function checkLeaseTiming(timing: LeaseTiming): string[] {
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = timing;
  const problems: string[] = [];
  const fields = [
    ["leaseDurationMs", leaseDurationMs],
    ["renewDeadlineMs", renewDeadlineMs],
    ["retryPeriodMs", retryPeriodMs],
  ] as const;
  for (const [field, value] of fields) {
    if (!Number.isFinite(value) || value <= 0) {
      problems.push(`${field} must be a finite number of milliseconds > 0, got ${value}`);
    }
  }
  if (problems.length > 0) return problems;
  if (!(leaseDurationMs > renewDeadlineMs)) {
    problems.push(
      `leaseDurationMs (${leaseDurationMs}) must exceed renewDeadlineMs (${renewDeadlineMs}), or a new leader can start before the old one stops`,
    );
  }
  if (!(renewDeadlineMs > RETRY_JITTER_FACTOR * retryPeriodMs)) {
    problems.push(
      `renewDeadlineMs (${renewDeadlineMs}) must exceed ${RETRY_JITTER_FACTOR} × retryPeriodMs (${retryPeriodMs}), or the holder can miss its deadline without a single renewal attempt`,
    );
  }
  return problems;
}
