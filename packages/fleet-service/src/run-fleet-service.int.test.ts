import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { startRedisServer, type RedisServer } from "@rrfleet/fleet-state/testing";
import {
  FLEET_SERVICE_ENV_VARS,
  fleetServiceEnvShape,
  parseServiceEnv,
  toFleetServiceConfig,
  type FleetServiceConfig,
  type ServiceConfigParse,
} from "@rrfleet/telemetry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { runFleetService, type FleetServiceSpec } from "./run-fleet-service.js";

const PASSWORD = "the-right-password-42";

let dir: string;
let redis: RedisServer;
let env: Record<string, string>;

/** A kubeconfig for one API server, authenticating with `token`. */
function renderKubeconfig(token: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "prod", cluster: { server: "https://prod.example:6443" } }],
    users: [{ name: "u", user: { token } }],
    contexts: [{ name: "prod", context: { cluster: "prod", user: "u" } }],
    "current-context": "prod",
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "rrfleet-fleet-service-"));
  await writeFile(
    join(dir, "users.acl"),
    `user default off\nuser svc on >${PASSWORD} ~* &* +@all\n`,
  );
  await writeFile(join(dir, "password"), `${PASSWORD}\n`);
  await writeFile(join(dir, "wrong"), "not-the-password");
  await writeFile(join(dir, "read.yaml"), renderKubeconfig("read-only-token"));
  await writeFile(join(dir, "write.yaml"), renderKubeconfig("write-token"));
  await writeFile(
    join(dir, "fleet.yaml"),
    [
      "clusters:",
      "  - name: prod",
      "    credentials:",
      "      watcher: { kubeconfig: read.yaml }",
      "      applier: { kubeconfig: write.yaml }",
    ].join("\n"),
  );
  redis = await startRedisServer({ args: ["--aclfile", join(dir, "users.acl")] });
  env = {
    REDIS_URL: redis.url,
    REDIS_USERNAME: "svc",
    REDIS_PASSWORD_FILE: join(dir, "password"),
    FLEET_FILE: join(dir, "fleet.yaml"),
    LISTEN_ADDRESS: "127.0.0.1:0",
    LOG_LEVEL: "debug",
  };
});
afterAll(async () => {
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

const schema = z.object(fleetServiceEnvShape({ listenPort: 0, serviceName: "test-service" }));
function parseConfig(
  e: Readonly<Record<string, string | undefined>>,
): ServiceConfigParse<FleetServiceConfig> {
  const parsed = parseServiceEnv(e, FLEET_SERVICE_ENV_VARS, schema);
  return parsed.ok ? { ok: true, config: toFleetServiceConfig(parsed.env) } : parsed;
}

function collectLogs() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const lines = () =>
    chunks
      .join("")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { stream, lines, text: () => chunks.join("") };
}

function makeSpec(
  overrides: Partial<FleetServiceSpec<FleetServiceConfig>> = {},
): FleetServiceSpec<FleetServiceConfig> & { started: () => boolean } {
  let started = false;
  return {
    program: "rrfleet-test",
    role: "watcher",
    parseConfig,
    instance: () => ({ field: "test", id: "t-1" }),
    stoppingMessage: "stopping",
    start: () => {
      started = true;
      return {
        liveness: () => ({ ok: true, problems: [] }),
        readiness: () => ({ ok: true, problems: [] }),
        run: () => Promise.resolve(0),
      };
    },
    ...overrides,
    started: () => started,
  };
}

describe("runFleetService", () => {
  it("exits 2 with one line per problem on stderr before anything starts", async () => {
    const spec = makeSpec();
    let stderr = "";
    const code = await runFleetService(spec, {
      env: { REDIS_URL: "http://x", REDIS_TLS_CERT_FILE: "/tls.crt" },
      stderr: (text) => (stderr += text),
      stopSignal: new AbortController().signal,
    });
    expect(code).toBe(2);
    expect(stderr.split("\n")).toEqual([
      "rrfleet-test: invalid configuration",
      "REDIS_URL: must be a redis:// or rediss:// URL",
      "FLEET_FILE: set FLEET_FILE or SECRETS_NAMESPACE (or both): the service needs its clusters",
      "REDIS_TLS_CERT_FILE: TLS settings need a rediss:// REDIS_URL",
      "REDIS_TLS_KEY_FILE: is required with REDIS_TLS_CERT_FILE (the client certificate's key)",
      "",
    ]);
    expect(spec.started()).toBe(false);
  });

  it("exits 2 and logs why, without the password, when Redis refuses the login", async () => {
    const spec = makeSpec();
    const logs = collectLogs();
    const code = await runFleetService(spec, {
      env: { ...env, REDIS_PASSWORD_FILE: join(dir, "wrong") },
      stderr: () => undefined,
      stopSignal: new AbortController().signal,
      logDestination: logs.stream,
    });
    expect(code).toBe(2);
    expect(spec.started()).toBe(false);
    expect(logs.text()).not.toContain("not-the-password");
    expect(logs.lines()).toContainEqual(
      expect.objectContaining({
        level: "error",
        msg: "cannot use Redis with this configuration",
        code: "Unauthenticated",
        err: `Redis at redis://svc@127.0.0.1:${redis.port} refused the credentials (REDIS_USERNAME, REDIS_PASSWORD_FILE): WRONGPASS invalid username-password pair or user is disabled.`,
      }),
    );
  });

  it("runs the role with its own cluster credentials and probes, then shuts down on the signal", async () => {
    const stop = new AbortController();
    const logs = collectLogs();
    const seen: { tokens: (string | undefined)[]; readyz?: number; metrics?: string } = {
      tokens: [],
    };
    const spec = makeSpec({
      start: ({ registry, state }) => ({
        liveness: () => ({ ok: true, problems: [] }),
        readiness: () => ({ ok: true, problems: [] }),
        run: async () => {
          seen.tokens = registry
            .clusters()
            .map((c) => c.connect().kubeConfig.getCurrentUser()?.token);
          await state.markDirty("prod", { reason: "Resync" });
          const url = logs.lines().find((l) => l["msg"] === "rrfleet-test started")?.["url"];
          seen.readyz = (await fetch(`${String(url)}/readyz`)).status;
          seen.metrics = await (await fetch(`${String(url)}/metrics`)).text();
          stop.abort();
          return 0;
        },
      }),
    });
    const code = await runFleetService(spec, {
      env,
      stderr: () => undefined,
      stopSignal: stop.signal,
      logDestination: logs.stream,
    });
    expect(code).toBe(0);
    expect(seen.tokens).toEqual(["read-only-token"]);
    expect(seen.readyz).toBe(200);
    expect(seen.metrics).toMatch(/^rrfleet_redis_up 1$/m);
    expect(logs.lines().at(-1)).toMatchObject({ msg: "rrfleet-test stopped", test: "t-1" });
    expect(logs.text()).not.toContain(PASSWORD);
  });

  it("exits 1 and logs it when the role throws", async () => {
    const logs = collectLogs();
    const spec = makeSpec({
      start: () => ({
        liveness: () => ({ ok: true, problems: [] }),
        readiness: () => ({ ok: true, problems: [] }),
        run: () => Promise.reject(new Error("boom")),
      }),
    });
    const code = await runFleetService(spec, {
      env,
      stderr: () => undefined,
      stopSignal: new AbortController().signal,
      logDestination: logs.stream,
    });
    expect(code).toBe(1);
    expect(logs.lines()).toContainEqual(
      expect.objectContaining({ level: "error", msg: "test failed", err: "boom" }),
    );
  });
});
