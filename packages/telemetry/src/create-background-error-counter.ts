import { Counter, type Registry } from "prom-client";

/** `rrfleet_background_errors_total{operation}`: failures of work nobody awaits. */
export type BackgroundErrorCounter = Counter<"operation">;

const NAME = "rrfleet_background_errors_total";

/**
 * The counter of failures in background work that no caller sees — a re-mark after a delay, an
 * ack, a poll, a membership leave — each of which is also logged where it happens. `operation`
 * takes values from each service's closed set (its README lists them). Idempotent per registry:
 * `rrctl run` hosts the watcher and the applier in one process and both ask for it.
 */
export function createBackgroundErrorCounter(registry: Registry): BackgroundErrorCounter {
  const existing = registry.getSingleMetric(NAME);
  if (existing instanceof Counter) return existing;
  return new Counter({
    name: NAME,
    help: "Failures of background work (re-marks, acks, polls, shard-map reads, membership leave), by operation; each is logged too.",
    labelNames: ["operation"],
    registers: [registry],
  });
}
