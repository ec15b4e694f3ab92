import {
  detectCalicoApi,
  openClusterRegistry,
  watchCluster,
  type RegisteredCluster,
} from "@rrfleet/kube";
import { connectRedisWhenReady, createRedisFleetState, systemClock } from "@rrfleet/fleet-state";
import {
  createLogger,
  createMetricsRegistry,
  createRedisUpGauge,
  startTelemetryServer,
  startTracing,
  stopOnSignals,
} from "@rrfleet/telemetry";
import { createWatcher, type ClusterWatchHandle } from "./create-watcher.js";
import { parseWatcherConfig } from "./watcher-config.js";
import { createWatcherMetrics } from "./watcher-metrics.js";

/**
 * Runs rrfleet-watcher in this process until a signal or a fatal error; resolves the exit code.
 */
export async function runWatcherProcess(): Promise<number> {
  const parsed = parseWatcherConfig(process.env);
  if (!parsed.ok) {
    process.stderr.write(`rrfleet-watcher: invalid configuration\n${parsed.message}\n`);
    return 2;
  }
  const config = parsed.config;
  const logger = createLogger({ service: "rrfleet-watcher", level: config.logLevel }).child({
    watcher: config.watcherId,
  });
  const stopSignal = stopOnSignals({
    onFirst: (signal) => {
      logger.info({ signal }, "stopping: leaving the fleet so my clusters move at once");
    },
  });

  const tracing = startTracing({
    serviceName: config.serviceName,
    serviceInstanceId: config.watcherId,
    ...(config.otlpEndpoint === undefined ? {} : { otlpEndpoint: config.otlpEndpoint }),
  });
  const redis = await connectRedisWhenReady(config.redis, {
    signal: stopSignal,
    logger,
  });
  if (redis === undefined) {
    await tracing.shutdown();
    return 0;
  }
  const state = createRedisFleetState(redis, { prefix: config.redisPrefix });
  const registry = openClusterRegistry({
    role: "watcher",
    allowExecCredentials: config.allowExecKubeconfig,
    ...(config.fleetFile === undefined ? {} : { fleetFile: config.fleetFile }),
    ...(config.secretsNamespace === undefined ? {} : { secretsNamespace: config.secretsNamespace }),
    logger: logger.child({ component: "registry" }),
  });
  const metricsRegistry = createMetricsRegistry();
  const metrics = createWatcherMetrics(metricsRegistry);
  createRedisUpGauge(metricsRegistry, () => redis.status === "ready");
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
    tracer: tracing.tracer,
  });
  const server = await startTelemetryServer({
    host: config.listen.host,
    port: config.listen.port,
    registry: metricsRegistry,
    liveness: () => {
      const last = watcher.status().lastHeartbeatAt;
      // Stuck, not merely cut off from Redis: the loop itself has not beaten for 10 periods.
      const stuck = last !== undefined && Date.now() - last > 10 * config.heartbeatMs;
      return { ok: !stuck, problems: stuck ? ["no heartbeat for 10 periods"] : [] };
    },
    readiness: () => {
      const status = watcher.status();
      const problems = [
        ...(redis.status === "ready" ? [] : [`redis: ${redis.status}`]),
        ...(status.lastHeartbeatAt === undefined ? ["no heartbeat yet"] : []),
        ...status.clusters.filter((c) => !c.synced).map((c) => `cluster ${c.name}: not synced`),
      ];
      return { ok: problems.length === 0, problems };
    },
  });
  logger.info({ url: server.url }, "rrfleet-watcher started");

  try {
    await registry.waitForReady(stopSignal);
    await watcher.run(stopSignal);
    return 0;
  } catch (err: unknown) {
    if (stopSignal.aborted) return 0;
    logger.error({ err: err instanceof Error ? err.message : String(err) }, "watcher failed");
    return 1;
  } finally {
    await server.close();
    await registry.stop();
    redis.disconnect();
    await tracing.shutdown();
    logger.info({}, "rrfleet-watcher stopped");
    logger.flush();
  }
}
