import type { DirtyEntry } from "@rrfleet/fleet-state";
import { sleepQuietly } from "../retry-policy.js";
import { reportBackgroundError } from "./report-background-error.js";
import type { FleetLeaderDeps } from "./fleet-leader-deps.js";

/** What a drain loop hands each dirty cluster to (the cluster worker). */
export interface DirtyClusterHandler {
  handle(entry: DirtyEntry, signal: AbortSignal): Promise<void>;
}

/**
 * One drain loop: takes one dirty cluster at a time and hands it to `worker`, until `signal`
 * aborts. A failed take is logged and tried again after a second. Never throws.
 */
export async function drainDirtyClusters(
  deps: Pick<FleetLeaderDeps, "state" | "clock" | "logger" | "fleetMetrics">,
  worker: DirtyClusterHandler,
  signal: AbortSignal,
): Promise<void> {
  const stopped = (): boolean => signal.aborted;
  while (!stopped()) {
    let entries: DirtyEntry[];
    try {
      entries = await deps.state.takeDirty(1, signal);
    } catch (err: unknown) {
      if (stopped()) return;
      reportBackgroundError(deps, "takeDirty", err, "could not take dirty clusters; retrying");
      await sleepQuietly(deps.clock, 1_000, signal);
      continue;
    }
    for (const entry of entries) await worker.handle(entry, signal);
  }
}
