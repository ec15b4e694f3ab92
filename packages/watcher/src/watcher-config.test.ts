import { describe, expect, it } from "vitest";
import { WATCHER_ENV_VARS, parseWatcherConfig } from "./watcher-config.js";

const minimal = { REDIS_URL: "redis://redis:6379", FLEET_FILE: "/etc/rrfleet/fleet.yaml" };

describe("parseWatcherConfig", () => {
  it("fills the documented defaults", () => {
    const result = parseWatcherConfig(minimal);
    if (!result.ok) throw new Error(result.message);
    expect(result.config).toMatchObject({
      redis: { url: "redis://redis:6379" },
      redisPrefix: "rrfleet",
      allowExecKubeconfig: false,
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
      REDIS_URL: "rediss://redis:6380/1",
      REDIS_USERNAME: "rrfleet-watcher",
      REDIS_PASSWORD_FILE: "/var/run/secrets/rrfleet/redis/password",
      REDIS_TLS_CA_FILE: "/var/run/secrets/rrfleet/redis-tls/ca.crt",
      REDIS_TLS_CERT_FILE: "/var/run/secrets/rrfleet/redis-tls/tls.crt",
      REDIS_TLS_KEY_FILE: "/var/run/secrets/rrfleet/redis-tls/tls.key",
      ALLOW_EXEC_KUBECONFIG: "true",
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
      redis: {
        url: "rediss://redis:6380/1",
        username: "rrfleet-watcher",
        passwordFile: "/var/run/secrets/rrfleet/redis/password",
        tls: {
          caFile: "/var/run/secrets/rrfleet/redis-tls/ca.crt",
          certFile: "/var/run/secrets/rrfleet/redis-tls/tls.crt",
          keyFile: "/var/run/secrets/rrfleet/redis-tls/tls.key",
        },
      },
      redisPrefix: "fleet-b",
      allowExecKubeconfig: true,
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
    [
      { ...minimal, REDIS_TLS_CA_FILE: "/ca.crt" },
      /^REDIS_TLS_CA_FILE: TLS settings need a rediss:\/\/ REDIS_URL$/,
    ],
    [
      { ...minimal, REDIS_URL: "rediss://x", REDIS_TLS_CERT_FILE: "/tls.crt" },
      /^REDIS_TLS_KEY_FILE: is required with REDIS_TLS_CERT_FILE/,
    ],
    [
      { ...minimal, REDIS_URL: "redis://:pw@x", REDIS_PASSWORD_FILE: "/password" },
      /^REDIS_PASSWORD_FILE: REDIS_URL holds a password too; keep one/,
    ],
    [{ ...minimal, ALLOW_EXEC_KUBECONFIG: "yes" }, /^ALLOW_EXEC_KUBECONFIG: must be true or false/],
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
