import type { ClusterStatus, StatusEvent } from "@rrfleet/fleet-state";
import { compareStrings } from "@rrfleet/topology-core";

/** Something that happened, aged against the view's `now`. */
export interface EventView {
  readonly reason: string;
  readonly message: string;
  readonly agoSeconds: number;
}

/** One row of the fleet table. */
export interface FleetRowView {
  readonly name: string;
  /** `Unknown`: registered, but the applier has not reported on it yet. */
  readonly phase: ClusterStatus["phase"] | "Unknown";
  readonly reason: string;
  readonly message: string;
  /** False for a status left by a cluster no longer registered. */
  readonly registered: boolean;
  readonly nodes?: number;
  readonly reflectors?: number;
  readonly pendingSteps?: number;
  readonly pendingActions?: number;
  readonly lastStep?: EventView;
  /** Passes that failed in a row (0 when the last one succeeded). */
  readonly failures: number;
  readonly lastError?: EventView;
  /** While Converged: for how long. */
  readonly convergedForSeconds?: number;
  /** While not Converged: since when it last was (absent: never seen converged). */
  readonly lastConvergedAgoSeconds?: number;
  readonly updatedAgoSeconds?: number;
}

/** The fleet table. */
export interface FleetView {
  /** When the view was built, epoch ms (the server's clock; ages are relative to it). */
  readonly generatedAt: number;
  readonly clusters: readonly FleetRowView[];
  /** Clusters per phase. */
  readonly phases: Readonly<Record<FleetRowView["phase"], number>>;
}

/**
 * Builds the fleet table from the registered clusters and the statuses the applier leader wrote.
 * Ages are whole seconds before `now` (epoch ms), never negative (writers' clocks may run ahead).
 * Pure; rows sorted by cluster name.
 */
export function buildFleetView(
  registered: readonly string[],
  statuses: Readonly<Record<string, ClusterStatus>>,
  now: number,
): FleetView {
  const names = [...new Set([...registered, ...Object.keys(statuses)])].sort(compareStrings);
  const known = new Set(registered);
  const age = (at: number): number => Math.max(0, Math.floor((now - at) / 1000));
  const event = (e: StatusEvent | undefined): EventView | undefined =>
    e === undefined ? undefined : { reason: e.reason, message: e.message, agoSeconds: age(e.at) };
  const clusters = names.map((name): FleetRowView => {
    const status = Object.hasOwn(statuses, name) ? statuses[name] : undefined;
    const registeredNow = known.has(name);
    if (status === undefined) {
      return {
        name,
        phase: "Unknown",
        reason: "NoStatusYet",
        message: "the applier has not reported on this cluster yet",
        registered: registeredNow,
        failures: 0,
      };
    }
    const lastStep = event(status.lastStep);
    const lastError = event(status.lastError);
    const converged = status.phase === "Converged";
    return {
      name,
      phase: status.phase,
      reason: status.reason,
      message: status.message,
      registered: registeredNow,
      ...optional("nodes", status.nodes),
      ...optional("reflectors", status.reflectors),
      ...optional("pendingSteps", status.pendingSteps),
      ...optional("pendingActions", status.pendingActions),
      ...(lastStep === undefined ? {} : { lastStep }),
      failures: status.failures ?? 0,
      ...(lastError === undefined ? {} : { lastError }),
      ...(converged
        ? { convergedForSeconds: age(status.convergedSince ?? status.updatedAt) }
        : optional(
            "lastConvergedAgoSeconds",
            status.lastConvergedAt === undefined ? undefined : age(status.lastConvergedAt),
          )),
      updatedAgoSeconds: age(status.updatedAt),
    };
  });
  const phases = { Converged: 0, Progressing: 0, Blocked: 0, Failing: 0, Unknown: 0 };
  for (const row of clusters) phases[row.phase]++;
  return { generatedAt: now, clusters, phases };
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Partial<Record<K, number>>);
}
