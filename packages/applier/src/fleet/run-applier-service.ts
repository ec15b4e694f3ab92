import type { Clock, LeaderLease } from "@rrfleet/fleet-state";
import type { LeaseTiming } from "@rrfleet/topology-core";
import type { FleetApplierMetrics } from "./fleet-metrics.js";
import { campaignForLeadership } from "./leader-election.js";
import type { FleetLeaderDeps } from "./fleet-leader-deps.js";
import { runFleetLeader } from "./run-fleet-leader.js";

/** Dependencies of {@link runApplierService}. */
export interface ApplierServiceDeps extends FleetLeaderDeps {
  readonly lease: LeaderLease;
  readonly candidateId: string;
  readonly timing: LeaseTiming;
  readonly clock: Clock;
  readonly fleetMetrics: FleetApplierMetrics;
}

/** Why the service returned; the process maps it to an exit code. */
export type ApplierServiceExit =
  /** `signal` aborted (SIGTERM): stopped cleanly, lease released if held. */
  | { readonly kind: "Stopped" }
  /** Leadership was lost: exit so the orchestrator starts a fresh standby (exit code 3). */
  | { readonly kind: "LeaseLost"; readonly reason: string };

/**
 * The applier process: a warm standby campaigning for the lease, then the leader's work
 * ({@link runFleetLeader}) for one term. A term ends the process (LeaseLost) rather than going
 * back to standby: a fresh process starts from a clean slate and its takeover resync is the only
 * recovery path, which keeps "what does a deposed leader still hold in memory" out of the design.
 * The one exception is an epoch found behind the fleet's (the store lost its counter): the lease
 * is given back and won again above it before anything is written.
 */
export async function runApplierService(
  deps: ApplierServiceDeps,
  signal: AbortSignal,
): Promise<ApplierServiceExit> {
  const { fleetMetrics, logger, candidateId } = deps;
  let minEpoch: number | undefined;
  fleetMetrics.leader.set({ applier: candidateId }, 0);
  for (;;) {
    let leadership;
    try {
      logger.info({ candidateId }, "standing by: campaigning for the leader lease");
      leadership = await campaignForLeadership(
        {
          lease: deps.lease,
          candidateId,
          timing: deps.timing,
          clock: deps.clock,
          logger,
          ...(minEpoch === undefined ? {} : { minEpoch }),
          onObserved: ({ epoch }) => {
            fleetMetrics.leaderEpoch.set(epoch);
          },
        },
        signal,
      );
    } catch (err: unknown) {
      if (signal.aborted) return { kind: "Stopped" };
      throw err;
    }
    fleetMetrics.leader.set({ applier: candidateId }, 1);
    fleetMetrics.leaderEpoch.set(leadership.epoch);
    fleetMetrics.leaderTransitions.inc({ reason: "Acquired" });
    const end = await runFleetLeader(deps, leadership, signal);
    fleetMetrics.leader.set({ applier: candidateId }, 0);
    if (signal.aborted) {
      await leadership.release();
      fleetMetrics.leaderTransitions.inc({ reason: "Released" });
      return { kind: "Stopped" };
    }
    switch (end.kind) {
      case "EpochBehind":
        await leadership.release();
        fleetMetrics.leaderTransitions.inc({ reason: "EpochBehind" });
        minEpoch = end.highestEpoch;
        continue;
      case "Fenced":
        await leadership.release();
        fleetMetrics.leaderTransitions.inc({ reason: "Fenced" });
        return { kind: "LeaseLost", reason: `Fenced: ${end.message}` };
      case "LeadershipEnded": {
        const reason = await leadership.ended;
        fleetMetrics.leaderTransitions.inc({ reason });
        return { kind: "LeaseLost", reason };
      }
    }
  }
}
