import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { startFleetService, type FleetServiceProcess } from "./fleet-service-process.js";
import { findFreePort } from "./free-port.js";
import { startTestRedis, type TestRedis } from "./redis-process.js";
import { grantShippedClusterRole } from "./shipped-cluster-role.js";
import type { TestCluster } from "./test-cluster.js";
import type { TokenUser } from "./token-file.js";
import { userContextName, writeKubeconfig } from "./write-kubeconfig.js";

/**
 * The API users a monitored fleet acts as in each test cluster (declare them with
 * `startTestCluster({ users: MONITORING_USERS })`, then {@link grantMonitoringRoles}): appliers
 * hold the shipped write ClusterRole, watchers and `reader` the shipped read-only one.
 */
export const MONITORING_USERS: readonly TokenUser[] = [
  { name: "applier", token: "monitoring-applier-token", groups: ["rrfleet-appliers"] },
  { name: "watcher", token: "monitoring-watcher-token", groups: ["rrfleet-watchers"] },
  { name: "reader", token: "monitoring-reader-token", groups: ["rrfleet-watchers"] },
];

/** Binds the shipped ClusterRoles to the groups of {@link MONITORING_USERS}. */
export async function grantMonitoringRoles(cluster: TestCluster): Promise<void> {
  await grantShippedClusterRole(cluster.kubeConfig, "clusterrole.yaml", {
    kind: "Group",
    name: "rrfleet-appliers",
  });
  await grantShippedClusterRole(cluster.kubeConfig, "clusterrole-watcher.yaml", {
    kind: "Group",
    name: "rrfleet-watchers",
  });
}

/** One registered cluster of a {@link MonitoringFleet}. */
export interface MonitoredCluster {
  readonly name: string;
  /** The API server; undefined registers a cluster whose server does not answer. */
  readonly cluster?: TestCluster;
  /** The appliers' user: `applier` (default), or `reader` to have every write refused. */
  readonly applierUser?: "applier" | "reader";
  /** Policy overrides of this cluster (the fleet file's per-cluster `policy`). */
  readonly policy?: Readonly<Record<string, unknown>>;
}

/** Options of {@link startMonitoringFleet}. */
export interface MonitoringFleetOptions {
  readonly clusters: readonly MonitoredCluster[];
  /** Logs, fleet files, kubeconfigs. */
  readonly dir: string;
  readonly watchers?: number;
  readonly appliers?: number;
  /** Default policy of the fleet file. */
  readonly policy?: Readonly<Record<string, unknown>>;
  /** Extra environment of both services (timings, OTLP endpoint…). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Redis plus rrfleet-watcher and rrfleet-applier processes over a set of test clusters. */
export interface MonitoringFleet {
  readonly redis: TestRedis;
  readonly watchers: readonly FleetServiceProcess[];
  readonly appliers: readonly FleetServiceProcess[];
  /** Starts one more applier (a standby, or the next leader). */
  startApplier(): Promise<FleetServiceProcess>;
  stop(): Promise<void>;
}

/** Fast timings: 1 s heartbeats, a 4 s lease, a short switchover delay instead of CalicoNodeStatus. */
export const MONITORING_FLEET_ENV: Readonly<Record<string, string>> = {
  HEARTBEAT_SECONDS: "1",
  LEASE_SECONDS: "4",
  RENEW_DEADLINE_SECONDS: "3",
  RETRY_PERIOD_SECONDS: "0.5",
  SESSION_CHECK: "delay",
  SWITCHOVER_DELAY_SECONDS: "0.5",
  RESYNC_SECONDS: "30",
  LOG_LEVEL: "info",
};

/**
 * Starts a private redis-server and the fleet services over `clusters`: watchers read every
 * cluster as `watcher`, appliers write as each cluster's `applierUser`; a cluster without an API
 * server is registered with a server address nothing listens on. The fleet the dashboard test
 * scrapes and the dashboard screenshot draws.
 */
export async function startMonitoringFleet(
  options: MonitoringFleetOptions,
): Promise<MonitoringFleet> {
  const { dir } = options;
  const nowhere = join(dir, "unreachable.kubeconfig");
  const anyCluster = options.clusters.find((c) => c.cluster !== undefined)?.cluster;
  if (anyCluster === undefined) throw new Error("a monitoring fleet needs one real cluster");
  await writeKubeconfig(nowhere, {
    clusterName: "nowhere",
    server: `https://127.0.0.1:${await findFreePort()}`,
    caFile: anyCluster.caFile,
    admin: { name: "nobody", token: "no-token" },
    users: [],
  });
  const fleetFile = async (role: "watcher" | "applier"): Promise<string> => {
    const path = join(dir, `fleet-${role}.yaml`);
    await writeFile(
      path,
      stringify({
        ...(options.policy === undefined ? {} : { defaults: { policy: options.policy } }),
        clusters: options.clusters.map((c) => ({
          name: c.name,
          kubeconfig: c.cluster?.kubeconfigPath ?? nowhere,
          context:
            c.cluster === undefined
              ? "nowhere"
              : userContextName(
                  c.cluster.name,
                  role === "watcher" ? "watcher" : (c.applierUser ?? "applier"),
                ),
          ...(c.policy === undefined ? {} : { policy: c.policy }),
        })),
      }),
    );
    return path;
  };
  const redis = await startTestRedis(dir);
  const env = { ...MONITORING_FLEET_ENV, ...options.env, REDIS_URL: redis.url };
  const watcherFile = await fleetFile("watcher");
  const applierFile = await fleetFile("applier");
  const watchers: FleetServiceProcess[] = [];
  const appliers: FleetServiceProcess[] = [];
  const startApplier = async (): Promise<FleetServiceProcess> => {
    const applier = await startFleetService({
      kind: "applier",
      id: `applier-${appliers.length + 1}`,
      dir,
      env: { ...env, FLEET_FILE: applierFile },
    });
    appliers.push(applier);
    return applier;
  };
  for (let i = 1; i <= (options.watchers ?? 1); i++) {
    watchers.push(
      await startFleetService({
        kind: "watcher",
        id: `watcher-${i}`,
        dir,
        env: { ...env, FLEET_FILE: watcherFile },
      }),
    );
  }
  for (let i = 1; i <= (options.appliers ?? 1); i++) await startApplier();
  return {
    redis,
    watchers,
    appliers,
    startApplier,
    stop: async () => {
      await Promise.all([...appliers, ...watchers].map((p) => p.stop()));
      await redis.stop();
    },
  };
}
