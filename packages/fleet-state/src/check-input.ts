import { FleetStateError } from "./fleet-state-error.js";

/**
 * Throws FleetStateError `Invalid` unless `value` can be part of a key: non-empty, at most 253
 * characters, without `{` or `}` (they would break Redis Cluster hash tags).
 */
export function checkName(what: string, value: string): void {
  if (value.length === 0 || value.length > 253 || /[{}]/.test(value)) {
    throw new FleetStateError(
      "Invalid",
      `${what} ${JSON.stringify(value)}: must be 1-253 characters without "{" or "}"`,
    );
  }
}

/** Throws FleetStateError `Invalid` unless `value` is a finite number above `min` (or equal when `inclusive`). */
export function checkNumber(what: string, value: number, min: number, inclusive = false): void {
  if (!Number.isFinite(value) || value < min || (!inclusive && value === min)) {
    throw new FleetStateError(
      "Invalid",
      `${what} must be a number ${inclusive ? ">=" : ">"} ${min}, got ${value}`,
    );
  }
}
