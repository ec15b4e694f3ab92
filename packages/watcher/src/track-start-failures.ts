/**
 * The watcher's memory of clusters whose watch it could not start (unreachable API server, bad
 * credentials): when each may be tried again — full-jitter exponential backoff (`@rrfleet/kube`'s
 * computeBackoffDelay), where the loop used to retry on every tick (about once a second, with a
 * warning each time) — and what the last failure was.
 */
import { computeBackoffDelay, type BackoffBounds } from "@rrfleet/kube";

/** One cluster's failure streak. */
export interface StartFailure {
  /** Failed attempts in a row. */
  readonly attempts: number;
  /** Epoch ms (the watcher's clock) before which it is not tried again. */
  readonly retryAt: number;
  /** The last error's code (`Unavailable`, `Forbidden`, …; `Internal` for an uncoded error). */
  readonly reason: string;
  readonly message: string;
}

/** What {@link StartFailures.fail} decided. */
export interface FailureRecord {
  readonly failure: StartFailure;
  /** How long until the next attempt, ms. */
  readonly delayMs: number;
  /** The first failure of a streak, or one whose reason or message differs from the last: worth a warning and a new report. */
  readonly isNews: boolean;
}

/** Start failures by cluster name. */
export interface StartFailures {
  /** Whether `cluster` may be tried at `now` (never failed, or its backoff has passed). */
  isDue(cluster: string, now: number): boolean;
  /** Records a failed attempt at `now`. */
  fail(cluster: string, err: unknown, now: number): FailureRecord;
  /** Ends `cluster`'s streak (its watch started, or it is not this watcher's any more); resolves whether it had one. */
  clear(cluster: string): boolean;
  /** `cluster`'s current streak, if any. */
  get(cluster: string): StartFailure | undefined;
}

/** Creates an empty {@link StartFailures}; `random` returns [0, 1) like Math.random. */
export function createStartFailures(bounds: BackoffBounds, random: () => number): StartFailures {
  const failures = new Map<string, StartFailure>();
  return {
    isDue: (cluster, now) => (failures.get(cluster)?.retryAt ?? Number.NEGATIVE_INFINITY) <= now,
    fail: (cluster, err, now) => {
      const previous = failures.get(cluster);
      const attempts = (previous?.attempts ?? 0) + 1;
      const delayMs = computeBackoffDelay(attempts - 1, bounds, random);
      const reason = codeOf(err);
      const message = err instanceof Error ? err.message : String(err);
      const failure = { attempts, retryAt: now + delayMs, reason, message };
      failures.set(cluster, failure);
      const isNews =
        previous === undefined || previous.reason !== reason || previous.message !== message;
      return { failure, delayMs, isNews };
    },
    clear: (cluster) => failures.delete(cluster),
    get: (cluster) => failures.get(cluster),
  };
}

function codeOf(err: unknown): string {
  return typeof err === "object" && err !== null && "code" in err && typeof err.code === "string"
    ? err.code
    : "Internal";
}
