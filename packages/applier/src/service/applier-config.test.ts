import { describe, expect, it } from "vitest";
import { APPLIER_ENV_VARS, parseApplierConfig } from "./applier-config.js";

const minimal = { REDIS_URL: "redis://127.0.0.1:6379", FLEET_FILE: "/etc/rrfleet/fleet.yaml" };

function parseOk(env: Record<string, string>) {
  const result = parseApplierConfig(env);
  if (!result.ok) throw new Error(`expected a valid config, got: ${result.message}`);
  return result.config;
}

function parseError(env: Record<string, string>): string {
  const result = parseApplierConfig(env);
  if (result.ok) throw new Error("expected a configuration error");
  return result.message;
}

describe("parseApplierConfig", () => {
  it("fills client-go's lease timing and the documented defaults", () => {
    const config = parseOk(minimal);
    expect(config).toMatchObject({
      redis: { url: "redis://127.0.0.1:6379" },
      allowExecKubeconfig: false,
      redisPrefix: "rrfleet",
      fleetFile: "/etc/rrfleet/fleet.yaml",
      heartbeatMs: 10_000,
      leaseTiming: { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
      clusterBucket: { ratePerSecond: 5, burst: 10 },
      globalBucket: { ratePerSecond: 50, burst: 100 },
      sessionCheck: "calico-node-status",
      maxParallelClusters: 8,
      dryRun: false,
      statusPageEnabled: true,
      listen: { host: "0.0.0.0", port: 9465 },
      logLevel: "info",
      serviceName: "rrfleet-applier",
    });
    expect(config.applierId).toMatch(/^.+-[0-9a-f]{6}$/);
    expect(config.otlpEndpoint).toBeUndefined();
  });

  it("gives every process incarnation its own default id", () => {
    expect(parseOk(minimal).applierId).not.toBe(parseOk(minimal).applierId);
  });

  it("reads every variable", () => {
    const config = parseOk({
      ...minimal,
      APPLIER_ID: "applier-1",
      REDIS_PREFIX: "fleet-a",
      SECRETS_NAMESPACE: "rrfleet",
      HEARTBEAT_SECONDS: "1",
      LEASE_SECONDS: "4",
      RENEW_DEADLINE_SECONDS: "3",
      RETRY_PERIOD_SECONDS: "0.5",
      CLUSTER_QPS: "20",
      CLUSTER_BURST: "30",
      GLOBAL_QPS: "200",
      GLOBAL_BURST: "300",
      SESSION_CHECK: "delay",
      SWITCHOVER_DELAY_SECONDS: "0.2",
      SESSION_TIMEOUT_SECONDS: "30",
      RESYNC_SECONDS: "60",
      MAX_PARALLEL_CLUSTERS: "4",
      DRY_RUN: "true",
      STATUS_PAGE_ENABLED: "false",
      LISTEN_ADDRESS: "127.0.0.1:0",
      LOG_LEVEL: "debug",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      OTEL_SERVICE_NAME: "applier-east",
    });
    expect(config).toMatchObject({
      applierId: "applier-1",
      redisPrefix: "fleet-a",
      secretsNamespace: "rrfleet",
      heartbeatMs: 1_000,
      leaseTiming: { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 },
      clusterBucket: { ratePerSecond: 20, burst: 30 },
      globalBucket: { ratePerSecond: 200, burst: 300 },
      sessionCheck: "delay",
      switchoverDelayMs: 200,
      sessionTimeoutMs: 30_000,
      resyncMs: 60_000,
      maxParallelClusters: 4,
      dryRun: true,
      statusPageEnabled: false,
      listen: { host: "127.0.0.1", port: 0 },
      logLevel: "debug",
      otlpEndpoint: "http://collector:4318",
      serviceName: "applier-east",
    });
  });

  const bad: { name: string; env: Record<string, string>; message: RegExp }[] = [
    { name: "no Redis", env: { FLEET_FILE: "f" }, message: /^REDIS_URL: / },
    {
      name: "a Redis URL of another scheme",
      env: { ...minimal, REDIS_URL: "http://x" },
      message: /^REDIS_URL: /,
    },
    {
      name: "no cluster source",
      env: { REDIS_URL: minimal.REDIS_URL },
      message: /^FLEET_FILE: .*SECRETS_NAMESPACE/,
    },
    {
      name: "a lease shorter than the renew deadline",
      env: { ...minimal, LEASE_SECONDS: "5" },
      message: /LEASE_SECONDS.*must exceed.*RENEW_DEADLINE_SECONDS/,
    },
    { name: "a negative rate", env: { ...minimal, CLUSTER_QPS: "-1" }, message: /^CLUSTER_QPS: / },
    {
      name: "a fractional burst",
      env: { ...minimal, GLOBAL_BURST: "1.5" },
      message: /^GLOBAL_BURST: /,
    },
    {
      name: "an unknown session check",
      env: { ...minimal, SESSION_CHECK: "bgp" },
      message: /^SESSION_CHECK: /,
    },
    {
      name: "zero workers",
      env: { ...minimal, MAX_PARALLEL_CLUSTERS: "0" },
      message: /^MAX_PARALLEL_CLUSTERS: /,
    },
    {
      name: "a listen address without a port",
      env: { ...minimal, LISTEN_ADDRESS: "0.0.0.0" },
      message: /^LISTEN_ADDRESS: /,
    },
    {
      name: "an unknown log level",
      env: { ...minimal, LOG_LEVEL: "loud" },
      message: /^LOG_LEVEL: /,
    },
    {
      name: "a boolean that is not one",
      env: { ...minimal, DRY_RUN: "yes please" },
      message: /^DRY_RUN: /,
    },
    {
      name: "a status page switch that is not a boolean",
      env: { ...minimal, STATUS_PAGE_ENABLED: "off" },
      message: /^STATUS_PAGE_ENABLED: must be true or false, got "off"/,
    },
    {
      name: "an id with a space",
      env: { ...minimal, APPLIER_ID: "a b" },
      message: /^APPLIER_ID: /,
    },
  ];
  for (const row of bad) {
    it(`names the variable on ${row.name}`, () => {
      expect(parseError(row.env)).toMatch(row.message);
    });
  }

  it("reports every problem at once, one line each", () => {
    const message = parseError({ CLUSTER_QPS: "x", LOG_LEVEL: "loud" });
    expect(
      message
        .split("\n")
        .map((line) => line.split(":")[0])
        .sort(),
    ).toEqual(["CLUSTER_QPS", "FLEET_FILE", "LOG_LEVEL", "REDIS_URL"].sort());
  });

  it("treats an empty variable as unset and ignores variables it does not read", () => {
    const config = parseOk({ ...minimal, LOG_LEVEL: "", SOMETHING_ELSE: "x" });
    expect(config.logLevel).toBe("info");
    expect(APPLIER_ENV_VARS).not.toContain("SOMETHING_ELSE");
  });
});
