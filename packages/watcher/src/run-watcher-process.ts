import { systemClock } from "@rrfleet/fleet-state";
import { runFleetService } from "@rrfleet/fleet-service";
import { detectCalicoApi, watchCluster, type RegisteredCluster } from "@rrfleet/kube";
import { createWatcher, type ClusterWatchHandle } from "./create-watcher.js";
import { parseWatcherConfig } from "./watcher-config.js";
import { createWatcherMetrics } from "./watcher-metrics.js";

/**
 * Runs rrfleet-watcher in this process until a signal or a fatal error; resolves the exit code.
 * The process around it (configuration, Redis, registry, telemetry, signals, shutdown) is
 * `runFleetService`'s; this is the watcher's own part: watch the clusters of its shard, never
 * write to them.
 */
export function runWatcherProcess(): Promise<number> {
  return runFleetService({
    program: "rrfleet-watcher",
    role: "watcher",
    parseConfig: parseWatcherConfig,
    instance: (config) => ({ field: "watcher", id: config.watcherId }),
    stoppingMessage: "stopping: leaving the fleet so my clusters move at once",
    start: ({ config, logger, tracer, state, registry, metricsRegistry }) => {
      const metrics = createWatcherMetrics(metricsRegistry);
      const startWatch = async (cluster: RegisteredCluster): Promise<ClusterWatchHandle> => {
        const connection = cluster.connect();
        const calico = await detectCalicoApi(connection);
        return watchCluster(connection, {
          calico,
          logger: logger.child({ cluster: cluster.name, component: "watch" }),
          onEvent: (resource, kind) => {
            metrics.watchEvents.inc({ cluster: cluster.name, resource, kind });
          },
        });
      };
      const watcher = createWatcher({
        watcherId: config.watcherId,
        state,
        clusters: () => registry.clusters(),
        startWatch: (cluster) => {
          const registered = registry.clusters().find((c) => c.name === cluster.name);
          if (registered === undefined) {
            return Promise.reject(new Error(`cluster ${cluster.name} is no longer registered`));
          }
          return startWatch(registered);
        },
        heartbeatMs: config.heartbeatMs,
        ...(config.capacity === undefined ? {} : { capacity: config.capacity }),
        clock: systemClock,
        logger,
        metrics,
        tracer,
      });
      return {
        liveness: () => {
          const last = watcher.status().lastHeartbeatAt;
          // Stuck, not merely cut off from Redis: the loop itself has not beaten for 10 periods.
          const stuck = last !== undefined && Date.now() - last > 10 * config.heartbeatMs;
          return { ok: !stuck, problems: stuck ? ["no heartbeat for 10 periods"] : [] };
        },
        readiness: () => {
          const status = watcher.status();
          const problems = [
            ...(status.lastHeartbeatAt === undefined ? ["no heartbeat yet"] : []),
            ...status.clusters.filter((c) => !c.synced).map((c) => `cluster ${c.name}: not synced`),
          ];
          return { ok: problems.length === 0, problems };
        },
        run: async (signal) => {
          await watcher.run(signal);
          return 0;
        },
      };
    },
  });
}
