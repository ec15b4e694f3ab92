import { describe, expect, it } from "vitest";
import { WATCHER_ENV_VARS, parseWatcherConfig } from "./watcher-config.js";

const minimal = { REDIS_URL: "redis://redis:6379", FLEET_FILE: "/etc/rrfleet/fleet.yaml" };

describe("parseWatcherConfig", () => {
  it("fills the documented defaults", () => {
    const result = parseWatcherConfig(minimal);
    if (!result.ok) throw new Error(result.message);
    expect(result.config).toMatchObject({
      redisUrl: "redis://redis:6379",
      redisPrefix: "rrfleet",
      fleetFile: "/etc/rrfleet/fleet.yaml",
      heartbeatMs: 10_000,
      listen: { host: "0.0.0.0", port: 9464 },
      logLevel: "info",
      serviceName: "rrfleet-watcher",
    });
    expect(result.config.watcherId).toMatch(/-[0-9a-f]{6}$/);
    expect(result.config.capacity).toBeUndefined();
  });

  it("reads every variable", () => {
    const result = parseWatcherConfig({
      ...minimal,
      WATCHER_ID: "watcher-2",
      REDIS_PREFIX: "fleet-b",
      SECRETS_NAMESPACE: "rrfleet",
      HEARTBEAT_SECONDS: "1.5",
      CAPACITY: "2",
      LISTEN_ADDRESS: "127.0.0.1:0",
      LOG_LEVEL: "warn",
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://otel.example:4318",
      OTEL_SERVICE_NAME: "watcher-b",
    });
    if (!result.ok) throw new Error(result.message);
    expect(result.config).toEqual({
      watcherId: "watcher-2",
      redisUrl: "redis://redis:6379",
      redisPrefix: "fleet-b",
      fleetFile: "/etc/rrfleet/fleet.yaml",
      secretsNamespace: "rrfleet",
      heartbeatMs: 1_500,
      capacity: 2,
      listen: { host: "127.0.0.1", port: 0 },
      logLevel: "warn",
      otlpEndpoint: "https://otel.example:4318",
      serviceName: "watcher-b",
    });
  });

  it.each([
    [{ ...minimal, CAPACITY: "0" }, /^CAPACITY: must be a number > 0/],
    [{ ...minimal, HEARTBEAT_SECONDS: "soon" }, /^HEARTBEAT_SECONDS: /],
    [{ ...minimal, WATCHER_ID: "-bad" }, /^WATCHER_ID: /],
    [{ ...minimal, REDIS_PREFIX: "a{b}" }, /^REDIS_PREFIX: /],
    [{ ...minimal, SECRETS_NAMESPACE: "Not_A_Namespace" }, /^SECRETS_NAMESPACE: /],
    [{ REDIS_URL: "redis://x" }, /^FLEET_FILE: set FLEET_FILE or SECRETS_NAMESPACE/],
  ])("names the variable: %j", (env, message) => {
    const result = parseWatcherConfig(env);
    expect(result.ok ? "" : result.message).toMatch(message);
  });

  it("lists the variables it reads", () => {
    expect(WATCHER_ENV_VARS).toEqual(
      expect.arrayContaining(["WATCHER_ID", "CAPACITY", "REDIS_URL"]),
    );
  });
});
