import { errorMessage } from "../retry-policy.js";
import type { FleetLeaderDeps } from "./fleet-leader-deps.js";

/**
 * The leader's background work whose failures no caller sees: the closed set of
 * `rrfleet_background_errors_total{operation}` values in the applier.
 */
export type LeaderBackgroundOperation =
  | "markDirty"
  | "ackDirty"
  | "writeStatus"
  | "refreshSnapshot"
  | "takeDirty"
  | "publishShardMap"
  | "countDirty"
  | "resync";

/**
 * Logs `err` at warn with `message` (and `fields`) and counts it in
 * `rrfleet_background_errors_total{operation}`: no error of the leader is dropped silently.
 */
export function reportBackgroundError(
  deps: Pick<FleetLeaderDeps, "logger" | "fleetMetrics">,
  operation: LeaderBackgroundOperation,
  err: unknown,
  message: string,
  fields: object = {},
): void {
  deps.fleetMetrics.backgroundErrors.inc({ operation });
  deps.logger.warn({ ...fields, operation, err: errorMessage(err) }, message);
}
