import { openClusterRegistry } from "@rrfleet/kube";
import { createStatusPageRoutes } from "@rrfleet/status-page";
import {
  connectRedisWhenReady,
  createRedisFleetState,
  systemClock,
  type FleetState,
} from "@rrfleet/fleet-state";
import {
  createLogger,
  createMetricsRegistry,
  createRedisUpGauge,
  startTelemetryServer,
  startTracing,
  stopOnSignals,
} from "@rrfleet/telemetry";
import { createApplierMetrics } from "./metrics.js";
import { createFleetApplierMetrics } from "./fleet/fleet-metrics.js";
import { runApplierService } from "./fleet/run-applier-service.js";
import { parseApplierConfig } from "./service/applier-config.js";
import { openKubeCluster } from "./service/open-kube-cluster.js";

const EXIT_LEASE_LOST = 3;

/**
 * Runs rrfleet-applier in this process until a signal or a fatal error; resolves the exit code.
 */
export async function runApplierProcess(): Promise<number> {
  const parsed = parseApplierConfig(process.env);
  if (!parsed.ok) {
    process.stderr.write(`rrfleet-applier: invalid configuration\n${parsed.message}\n`);
    return 2;
  }
  const config = parsed.config;
  const logger = createLogger({ service: "rrfleet-applier", level: config.logLevel }).child({
    applier: config.applierId,
  });
  const stopSignal = stopOnSignals({
    onFirst: (signal) => {
      logger.info({ signal }, "stopping: releasing the lease and finishing");
    },
  });

  const tracing = startTracing({
    serviceName: config.serviceName,
    serviceInstanceId: config.applierId,
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
    role: "applier",
    allowExecCredentials: config.allowExecKubeconfig,
    ...(config.fleetFile === undefined ? {} : { fleetFile: config.fleetFile }),
    ...(config.secretsNamespace === undefined ? {} : { secretsNamespace: config.secretsNamespace }),
    logger: logger.child({ component: "registry" }),
  });
  const metricsRegistry = createMetricsRegistry();
  const metrics = createApplierMetrics(metricsRegistry);
  const fleetMetrics = createFleetApplierMetrics(metricsRegistry);
  createRedisUpGauge(metricsRegistry, () => redis.status === "ready");
  const server = await startTelemetryServer({
    host: config.listen.host,
    port: config.listen.port,
    registry: metricsRegistry,
    liveness: () => ({ ok: true, problems: [] }),
    readiness: () => {
      const problems = [
        ...(redis.status === "ready" ? [] : [`redis: ${redis.status}`]),
        ...registry.problems().map((p) => `registry: ${p.message}`),
      ];
      return { ok: redis.status === "ready", problems };
    },
    // Every replica serves it (standbys too): it reads the fleet's state, never writes.
    routes: config.statusPageEnabled
      ? createStatusPageRoutes({
          source: { clusters: () => registry.clusters(), ...readOnly(state) },
          now: () => Date.now(),
          onError: (err, path) => {
            logger.warn(
              { path, err: err instanceof Error ? err.message : String(err) },
              "status page read failed",
            );
          },
        })
      : [],
  });
  logger.info(
    { url: server.url, dryRun: config.dryRun, statusPage: config.statusPageEnabled },
    "rrfleet-applier started",
  );

  try {
    await registry.waitForReady(stopSignal);
    const exit = await runApplierService(
      {
        state,
        lease: state,
        candidateId: config.applierId,
        timing: config.leaseTiming,
        clusters: () => registry.clusters(),
        openCluster: (cluster) => openKubeCluster(cluster, config),
        clock: systemClock,
        logger,
        metrics,
        fleetMetrics,
        tracer: tracing.tracer,
        settings: {
          heartbeatMs: config.heartbeatMs,
          clusterBucket: config.clusterBucket,
          globalBucket: config.globalBucket,
          maxParallelClusters: config.maxParallelClusters,
          resyncMs: config.resyncMs,
          dryRun: config.dryRun,
        },
      },
      stopSignal,
    );
    if (exit.kind === "LeaseLost") {
      logger.error({ reason: exit.reason }, "leadership lost: exiting so a fresh standby starts");
      return EXIT_LEASE_LOST;
    }
    return 0;
  } catch (err: unknown) {
    if (stopSignal.aborted) return 0;
    logger.error({ err: err instanceof Error ? err.message : String(err) }, "applier failed");
    return 1;
  } finally {
    await server.close();
    await registry.stop();
    redis.disconnect();
    await tracing.shutdown();
    logger.info({}, "rrfleet-applier stopped");
    logger.flush();
  }
}

/** The two reads the status page makes, bound to the state (nothing that writes is passed on). */
function readOnly(state: FleetState): Pick<FleetState, "readStatuses" | "readSnapshot"> {
  return {
    readStatuses: () => state.readStatuses(),
    readSnapshot: (cluster) => state.readSnapshot(cluster),
  };
}
