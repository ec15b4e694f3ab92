import { Gauge, type Registry } from "prom-client";

/**
 * Registers `rrfleet_redis_up` on `registry`: 1 while `isConnected()` says the service's Redis
 * connection is ready, 0 while it is down or reconnecting — read at every scrape, so it is never
 * stale. The fleet services (rrfleet-watcher, rrfleet-applier) register it once their first
 * connection is up (before that they serve no /metrics at all); `rrctl run` keeps its state in
 * memory and has no such gauge. The RrfleetRedisUnreachable alert fires on 0.
 */
export function createRedisUpGauge(registry: Registry, isConnected: () => boolean): Gauge {
  return new Gauge({
    name: "rrfleet_redis_up",
    help: "1 while this service's Redis connection is ready, 0 while it is down or reconnecting.",
    registers: [registry],
    collect() {
      this.set(isConnected() ? 1 : 0);
    },
  });
}
