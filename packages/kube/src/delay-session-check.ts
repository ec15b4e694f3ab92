import {
  uniqueSessionPairs,
  type RouteCheckResult,
  type SessionCheck,
  type SessionCheckResult,
} from "./session-check.js";
import { sleepWithSignal } from "./sleep-with-signal.js";

/** Options of {@link createDelaySessionCheck}. */
export interface DelaySessionCheckOptions {
  /** How long to wait for new sessions, in milliseconds. */
  readonly delayMs: number;
  /** Waits (injectable for tests); must reject with `signal.reason` on abort. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * A {@link SessionCheck} that cannot see sessions (no CalicoNodeStatus, or not allowed to create
 * it): it waits `delayMs` and reports every pair as unverifiable, and every route handover as
 * unchecked. No pairs: returns at once.
 * An abort rejects with `signal.reason`.
 */
export function createDelaySessionCheck(options: DelaySessionCheckOptions): SessionCheck {
  const sleep = options.sleep ?? sleepWithSignal;
  return {
    waitForSessions: async (pairs, signal): Promise<SessionCheckResult> => {
      signal?.throwIfAborted();
      const unverifiable = uniqueSessionPairs(pairs);
      if (unverifiable.length > 0) await sleep(options.delayMs, signal);
      return { established: 0, missing: [], unverifiable };
    },
    // It waited for the sessions already; it cannot read routes either.
    waitForRoutes: (request, signal): Promise<RouteCheckResult> => {
      signal?.throwIfAborted();
      return Promise.resolve({
        confirmed: 0,
        missing: [],
        unchecked: request.handovers.length,
        ...(request.handovers.length === 0
          ? {}
          : { unverifiable: "the delay session check cannot read routes" }),
      });
    },
  };
}
