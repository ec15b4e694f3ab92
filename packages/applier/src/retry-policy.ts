import type { Clock } from "@rrfleet/fleet-state";
import { computeBackoffDelay } from "@rrfleet/kube";

/** Retry backoff: full jitter, doubling from `initialMs` up to `maxMs`. */
export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** The `code` of a coded error (KubeError, FleetStateError), else `Internal`. */
export function errorCode(err: unknown): string {
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string") {
    return err.code;
  }
  return "Internal";
}

/** Whether a coded error says trying again can help. */
export function isRetryable(err: unknown): boolean {
  return typeof err === "object" && err !== null && "retryable" in err && err.retryable === true;
}

/** An error's message, for logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * How long to wait before planning a cluster again after `failures` failed passes in a row:
 * Retry-After when the server gave one; the shortest wait after a Conflict (the object changed
 * under the plan: plan again from the fresh state); the longest for errors that will not heal by
 * themselves (403: RBAC must change — still retried, so fixing the role heals it without
 * hammering the server meanwhile); otherwise full-jitter exponential backoff
 * (`@rrfleet/kube`'s computeBackoffDelay), at least half the initial delay.
 */
export function retryDelayMs(
  err: unknown,
  failures: number,
  backoff: Backoff,
  random: () => number,
): number {
  if (
    typeof err === "object" &&
    err !== null &&
    "retryAfterSeconds" in err &&
    typeof err.retryAfterSeconds === "number"
  ) {
    return err.retryAfterSeconds * 1000;
  }
  if (errorCode(err) === "Conflict") return backoff.initialMs;
  if (!isRetryable(err)) return backoff.maxMs;
  return Math.max(
    backoff.initialMs / 2,
    computeBackoffDelay(Math.max(0, failures - 1), backoff, random),
  );
}

/** Sleeps, treating an abort of `signal` as an early wake-up rather than an error. */
export async function sleepQuietly(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  try {
    await clock.sleep(ms, signal);
  } catch (err: unknown) {
    if (!signal.aborted) throw err;
  }
}
