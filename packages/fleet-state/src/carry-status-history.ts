import type { ClusterStatus } from "./status-store.js";

/**
 * The status to store after `next`, carrying forward what a single pass cannot know: the last
 * step applied, the last error and when the cluster was last converged (a Converged pass after
 * another keeps `convergedSince`; the first one starts it at `next.updatedAt`). Fields `next`
 * sets itself win. Pure: the caller keeps `previous` (its last write, or what it read).
 */
export function carryStatusHistory(
  previous: ClusterStatus | undefined,
  next: ClusterStatus,
): ClusterStatus {
  const converged = next.phase === "Converged";
  const lastStep = next.lastStep ?? previous?.lastStep;
  const lastError = next.lastError ?? previous?.lastError;
  const convergedSince = converged
    ? (next.convergedSince ??
      (previous?.phase === "Converged" ? previous.convergedSince : undefined) ??
      next.updatedAt)
    : undefined;
  const lastConvergedAt = converged ? next.updatedAt : previous?.lastConvergedAt;
  return {
    ...next,
    ...(lastStep === undefined ? {} : { lastStep }),
    ...(lastError === undefined ? {} : { lastError }),
    ...(convergedSince === undefined ? {} : { convergedSince }),
    ...(lastConvergedAt === undefined ? {} : { lastConvergedAt }),
  };
}
