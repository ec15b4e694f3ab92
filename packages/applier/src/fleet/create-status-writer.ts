import { carryStatusHistory, type ClusterStatus, type StatusStore } from "@rrfleet/fleet-state";

/** Writes cluster statuses for the leader. */
export interface StatusWriter {
  /**
   * Writes `next` for `cluster` with the history of its previous status carried over. Never
   * throws: a failed write goes to `onError` (the next pass writes again).
   */
  write(cluster: string, next: ClusterStatus): Promise<void>;
}

/** Dependencies of {@link createStatusWriter}. */
export interface StatusWriterDeps {
  readonly state: Pick<StatusStore, "writeStatus">;
  /** Each cluster's last status written or read; updated on every write. */
  readonly statusHistory: Map<string, ClusterStatus>;
  /** Told of every failed write (the caller logs and counts it). */
  readonly onError: (cluster: string, err: unknown) => void;
}

/** Creates the leader's {@link StatusWriter}. */
export function createStatusWriter(deps: StatusWriterDeps): StatusWriter {
  return {
    write: async (cluster, next) => {
      const status = carryStatusHistory(deps.statusHistory.get(cluster), next);
      deps.statusHistory.set(cluster, status);
      try {
        await deps.state.writeStatus(cluster, status);
      } catch (err: unknown) {
        deps.onError(cluster, err);
      }
    },
  };
}
