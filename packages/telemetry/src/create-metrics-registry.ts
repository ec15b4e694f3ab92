import { collectDefaultMetrics, Registry } from "prom-client";

/**
 * A private Prometheus registry for one process, with the standard process and Node.js metrics
 * (`process_resident_memory_bytes`, `nodejs_eventloop_lag_seconds`, …). Never prom-client's
 * global registry: two services in one process (`rrctl run`) or in one test must not collide.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
