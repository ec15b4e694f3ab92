/**
 * Fleet mode locked down, for real: redis-server serving TLS only (a CA and client certificates
 * made with openssl) with one ACL user per role and the default user off; a fleet file giving
 * the watcher read-only credentials and the applier write credentials for the same cluster
 * (`credentials: { watcher, applier }`); the real rrfleet-watcher and rrfleet-applier processes.
 * The cluster converges, every write in the API server's audit log is the applier's, the
 * watcher's user holds the shipped read-only ClusterRole, and no log line holds a password. A
 * service given a wrong password exits 2 saying so.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectRedis } from "@rrfleet/fleet-state";
import {
  makeTlsFiles,
  startRedisServer,
  type RedisServer,
  type TlsFiles,
} from "@rrfleet/fleet-state/testing";
import { connectCluster, readClusterSnapshot } from "@rrfleet/kube";
import { parsePolicy, planCluster } from "@rrfleet/topology-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
  createNodeFactory,
  describeExit,
  grantShippedClusterRole,
  readAuditedWrites,
  startFleetService,
  startTestFleet,
  userContextName,
  waitFor,
  type FleetServiceProcess,
  type TestFleet,
} from "./harness/index.js";

const CLUSTER = "prod";
const APPLIER_USER = { name: "applier", token: "applier-token-7e57", groups: ["rrfleet-appliers"] };
const WATCHER_USER = { name: "watcher", token: "watcher-token-7e57", groups: ["rrfleet-watchers"] };
const PASSWORDS = {
  watcher: "watcher-redis-password-3b9f1c",
  applier: "applier-redis-password-8d2e4a",
};
const POLICY = { topology: "multi", notReadyGraceSeconds: 300 } as const;

describe("fleet mode with Redis over TLS and ACL users, and read-only watcher credentials", () => {
  let fleet: TestFleet;
  let dir: string;
  let tls: TlsFiles;
  let redis: RedisServer;
  let env: (role: "watcher" | "applier") => Record<string, string>;
  const services: FleetServiceProcess[] = [];

  beforeAll(async () => {
    fleet = await startTestFleet([CLUSTER], {
      users: [APPLIER_USER, WATCHER_USER],
      auditLog: true,
    });
    const cluster = fleet.cluster(CLUSTER);
    await grantShippedClusterRole(cluster.kubeConfig, "clusterrole.yaml", {
      kind: "Group",
      name: "rrfleet-appliers",
    });
    await grantShippedClusterRole(cluster.kubeConfig, "clusterrole-watcher.yaml", {
      kind: "Group",
      name: "rrfleet-watchers",
    });
    await createNodeFactory(cluster.kubeConfig, {
      kubeletVersion: cluster.kubeApiserverVersion,
    }).createNodes(9, { zones: ["zone-a", "zone-b", "zone-c"] });

    dir = await mkdtemp(join(tmpdir(), "rrfleet-e2e-secured-"));
    tls = await makeTlsFiles(dir);
    // One ACL user per role; the default user is off.
    await writeFile(
      join(dir, "users.acl"),
      [
        "user default off",
        `user rrfleet-watcher on >${PASSWORDS.watcher} ~* &* +@all`,
        `user rrfleet-applier on >${PASSWORDS.applier} ~* &* +@all`,
        "",
      ].join("\n"),
    );
    for (const role of ["watcher", "applier"] as const) {
      await writeFile(join(dir, `${role}.password`), `${PASSWORDS[role]}\n`);
    }
    redis = await startRedisServer({
      tls: { certFile: tls.serverCertFile, keyFile: tls.serverKeyFile, caFile: tls.caFile },
      args: ["--aclfile", join(dir, "users.acl")],
    });
    await writeFile(
      join(dir, "fleet.yaml"),
      stringify({
        defaults: { policy: POLICY },
        clusters: [
          {
            name: CLUSTER,
            credentials: {
              watcher: {
                kubeconfig: cluster.kubeconfigPath,
                context: userContextName(CLUSTER, WATCHER_USER.name),
              },
              applier: {
                kubeconfig: cluster.kubeconfigPath,
                context: userContextName(CLUSTER, APPLIER_USER.name),
              },
            },
          },
        ],
      }),
    );
    env = (role) => ({
      REDIS_URL: redis.url,
      REDIS_USERNAME: `rrfleet-${role}`,
      REDIS_PASSWORD_FILE: join(dir, `${role}.password`),
      REDIS_TLS_CA_FILE: tls.caFile,
      REDIS_TLS_CERT_FILE: tls.clientCertFile,
      REDIS_TLS_KEY_FILE: tls.clientKeyFile,
      FLEET_FILE: join(dir, "fleet.yaml"),
      HEARTBEAT_SECONDS: "1",
      LOG_LEVEL: "debug",
      ...(role === "applier"
        ? {
            LEASE_SECONDS: "4",
            RENEW_DEADLINE_SECONDS: "3",
            RETRY_PERIOD_SECONDS: "0.5",
            SESSION_CHECK: "delay",
            SWITCHOVER_DELAY_SECONDS: "0.2",
            CLUSTER_QPS: "50",
            CLUSTER_BURST: "50",
          }
        : {}),
    });
  });

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop(5_000)));
    await redis.stop();
    await fleet.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("converges the cluster, every write made by the applier's user, no password logged", async () => {
    const watcher = await startFleetService({
      kind: "watcher",
      id: "watcher-1",
      dir,
      env: env("watcher"),
    });
    services.push(watcher);
    const applier = await startFleetService({
      kind: "applier",
      id: "applier-1",
      dir,
      env: env("applier"),
    });
    services.push(applier);
    const parsed = parsePolicy(POLICY);
    if (!parsed.ok) throw new Error("bad test policy");
    const cluster = fleet.cluster(CLUSTER);
    await waitFor(
      async () => {
        const snapshot = await readClusterSnapshot(
          connectCluster({ kubeconfigPath: cluster.kubeconfigPath, context: CLUSTER }),
        );
        const converged =
          planCluster(snapshot, parsed.policy, new Date()).steps.length === 0 &&
          !snapshot.bgpConfiguration.nodeToNodeMeshEnabled;
        return converged ? true : undefined;
      },
      {
        description: "the cluster converged through the secured fleet",
        timeoutMs: 120_000,
        intervalMs: 500,
        abortIf: () => describeExit(watcher) ?? describeExit(applier),
      },
    ).catch(async (err: unknown) => {
      throw new Error(
        `${String(err)}\n--- watcher ---\n${await watcher.logTail(20)}\n--- applier ---\n${await applier.logTail(20)}`,
        { cause: err },
      );
    });
    // Both logged in to Redis as their own ACL user, over TLS with the client certificate.
    expect((await watcher.metrics()).get("rrfleet_redis_up")).toBe(1);
    expect((await applier.metrics()).get("rrfleet_redis_up")).toBe(1);
    const admin = await connectRedis({
      url: redis.url,
      username: "rrfleet-applier",
      passwordFile: join(dir, "applier.password"),
      tls: { caFile: tls.caFile, certFile: tls.clientCertFile, keyFile: tls.clientKeyFile },
    });
    try {
      const clients = String(await admin.call("CLIENT", "LIST"));
      expect(clients).toMatch(/ user=rrfleet-watcher /);
      expect(clients).toMatch(/ user=rrfleet-applier /);
    } finally {
      admin.disconnect();
    }
    // The audit log: writes only by the applier's user, none (not even a refused one) by the watcher's.
    const file = cluster.auditLogFile;
    if (file === undefined) throw new Error("audit log missing");
    const writes = await readAuditedWrites(file);
    const byUser = (user: string) => writes.filter((w) => w.user === user);
    expect(byUser(APPLIER_USER.name).filter((w) => w.code < 400).length).toBeGreaterThan(9);
    expect(byUser(WATCHER_USER.name)).toEqual([]);
    // No password, Redis's or the API servers', in any log line.
    const logs = JSON.stringify([...(await watcher.logLines()), ...(await applier.logLines())]);
    for (const secret of [...Object.values(PASSWORDS), APPLIER_USER.token, WATCHER_USER.token]) {
      expect(logs).not.toContain(secret);
    }
  });

  it("exits 2 naming the variables, without the password, when Redis refuses the login", async () => {
    await writeFile(join(dir, "wrong.password"), "not-the-password-0000");
    const watcher = await startFleetService({
      kind: "watcher",
      id: "watcher-wrong",
      dir,
      env: { ...env("watcher"), REDIS_PASSWORD_FILE: join(dir, "wrong.password") },
    });
    services.push(watcher);
    const exit = await waitFor(() => Promise.resolve(watcher.exitStatus()), {
      description: "the watcher exiting",
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    expect(exit).toMatchObject({ code: 2 });
    const lines = await watcher.logLines();
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "error",
        msg: "cannot use Redis with this configuration",
        code: "Unauthenticated",
        err: expect.stringContaining(
          "refused the credentials (REDIS_USERNAME, REDIS_PASSWORD_FILE): WRONGPASS",
        ) as unknown,
      }),
    );
    expect(JSON.stringify(lines)).not.toContain("not-the-password-0000");
  });
});
