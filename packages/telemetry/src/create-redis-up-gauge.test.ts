import { describe, expect, it } from "vitest";
import { createMetricsRegistry } from "./create-metrics-registry.js";
import { createRedisUpGauge } from "./create-redis-up-gauge.js";

describe("createRedisUpGauge", () => {
  it("reports the connection as it is at each scrape", async () => {
    const registry = createMetricsRegistry();
    let connected = true;
    createRedisUpGauge(registry, () => connected);
    expect(await registry.metrics()).toMatch(/^rrfleet_redis_up 1$/m);
    connected = false;
    expect(await registry.metrics()).toMatch(/^rrfleet_redis_up 0$/m);
    connected = true;
    expect(await registry.metrics()).toMatch(/^rrfleet_redis_up 1$/m);
  });
});
