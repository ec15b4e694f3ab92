import {
  createApplierMetrics,
  createFleetApplierMetrics,
  runApplierService,
  type ClusterIo,
  type LeaderCluster,
} from "@rrfleet/applier";
import { createMemoryFleetState, systemClock } from "@rrfleet/fleet-state";
import {
  connectCluster,
  createCalicoNodeStatusCheck,
  createClusterWriter,
  createDelaySessionCheck,
  KubeError,
  watchCluster,
} from "@rrfleet/kube";
import {
  createLogger,
  createMetricsRegistry,
  startTelemetryServer,
  startTracing,
  type ProbeResult,
} from "@rrfleet/telemetry";
import { createStatusPageRoutes } from "@rrfleet/status-page";
import { DEFAULT_LEASE_TIMING } from "@rrfleet/topology-core";
import { createWatcher, createWatcherMetrics, type Watcher } from "@rrfleet/watcher";
import type { Logger } from "pino";
import { CliError } from "./cli-error.js";
import type { RunOptions } from "./run-command.js";
import { createManagedCluster, type ManagedCluster } from "./create-managed-cluster.js";

/** Embedded mode's one watcher and one lease candidate. */
const EMBEDDED_ID = "embedded";
/** Heartbeat of the in-process watcher: how soon a shard map reaches it after start. */
const EMBEDDED_HEARTBEAT_MS = 1_000;

/**
 * The embedded controller: fleet mode's watcher and applier in one process, on the in-memory
 * shared state (DESIGN.md "Embedded mode": the same code paths). Connects to every cluster and
 * checks the credentials' RBAC before anything is written (a user mistake — a bad context, a
 * missing permission, an unsupported Calico — becomes a {@link CliError} `ClusterError`); a
 * cluster that cannot be reached (connection refused, timeout, 5xx) is not a mistake: the
 * others are managed and it is retried with backoff, its reason in logs, metrics and status.
 * Serves /metrics /healthz /readyz, then runs until `signal` aborts and shuts down in order:
 * applier (lease released), watcher (watches stopped), server.
 */
export async function runController(options: RunOptions, signal: AbortSignal): Promise<void> {
  const logger = createLogger({ service: "rrctl-run", level: options.logLevel });
  const clusters = await connectClusters(options, logger);
  const registry = createMetricsRegistry();
  const tracing = startTracing({ serviceName: "rrctl-run" });
  const state = createMemoryFleetState({ clock: systemClock, dirtyTakeTimeoutMs: 1_000 });
  const watcherMetrics = createWatcherMetrics(registry);
  const definitions = clusters.map((c) => ({ name: c.name, fingerprint: "embedded" }));
  const byName = new Map(clusters.map((c) => [c.name, c]));
  const watcher = createWatcher({
    watcherId: EMBEDDED_ID,
    state,
    clusters: () => definitions,
    startWatch: async (definition) => {
      const cluster = byName.get(definition.name);
      if (cluster === undefined) throw new Error(`unknown cluster ${definition.name}`);
      // Checked at start, or not reachable then: checked now (the watcher backs off on failure).
      const calico = await cluster.ready();
      return watchCluster(cluster.connection, {
        calico,
        logger: logger.child({ cluster: cluster.name, component: "watch" }),
        onEvent: (resource, kind) => {
          watcherMetrics.watchEvents.inc({ cluster: cluster.name, resource, kind });
        },
      });
    },
    heartbeatMs: EMBEDDED_HEARTBEAT_MS,
    clock: systemClock,
    logger: logger.child({ component: "watcher" }),
    metrics: watcherMetrics,
    tracer: tracing.tracer,
  });
  const leaderClusters: LeaderCluster[] = clusters.map((c) => ({
    name: c.name,
    fingerprint: "embedded",
    policy: options.policy,
    connect: () => c.connection,
  }));
  const server = await startTelemetryServer({
    host: options.listenHost,
    port: options.listenPort,
    registry,
    liveness: () => ({ ok: true, problems: [] }),
    readiness: () => describeReadiness(watcher, clusters),
    routes: options.statusPage
      ? createStatusPageRoutes({
          source: {
            clusters: () => leaderClusters,
            readStatuses: () => state.readStatuses(),
            readSnapshot: (cluster) => state.readSnapshot(cluster),
          },
          now: () => Date.now(),
          onError: (err, path) => {
            logger.warn({ path, err: String(err) }, "status page read failed");
          },
        })
      : [],
  });
  logger.info(
    {
      url: server.url,
      clusters: clusters.map((c) => c.name),
      dryRun: options.dryRun,
      statusPage: options.statusPage,
    },
    `rrctl run started: serving /metrics /healthz /readyz${options.statusPage ? " and the status page at /" : ""}`,
  );

  const stop = new AbortController();
  const onSignal = (): void => {
    stop.abort(signal.reason);
  };
  signal.addEventListener("abort", onSignal, { once: true });
  if (signal.aborted) onSignal();
  const watching = watcher.run(stop.signal);
  try {
    const exit = await runApplierService(
      {
        state,
        lease: state,
        candidateId: `${EMBEDDED_ID}-${process.pid}`,
        timing: DEFAULT_LEASE_TIMING,
        clusters: () => leaderClusters,
        openCluster: (cluster) => openManagedCluster(byName, cluster, options),
        clock: systemClock,
        logger,
        metrics: createApplierMetrics(registry),
        fleetMetrics: createFleetApplierMetrics(registry),
        tracer: tracing.tracer,
        settings: {
          heartbeatMs: EMBEDDED_HEARTBEAT_MS,
          clusterBucket: { ratePerSecond: options.qps, burst: options.burst },
          // One process, one budget per cluster: the fleet-wide bucket never binds.
          globalBucket: {
            ratePerSecond: options.qps * clusters.length,
            burst: options.burst * clusters.length,
          },
          maxParallelClusters: clusters.length,
          resyncMs: options.resyncMs,
          dryRun: options.dryRun,
          sessionRecheckMs: 2_000,
        },
      },
      stop.signal,
    );
    if (exit.kind === "LeaseLost") {
      // In one process only a stall longer than the renew deadline gets here.
      throw new Error(`the embedded controller lost its lease (${exit.reason}); restart it`);
    }
  } finally {
    signal.removeEventListener("abort", onSignal);
    stop.abort();
    await watching;
    await server.close();
    await tracing.shutdown();
    logger.info({}, "rrctl run stopped");
    logger.flush();
  }
}

/** The writers and session check of a connected cluster, once its checks passed. */
async function openManagedCluster(
  byName: ReadonlyMap<string, ManagedCluster>,
  cluster: LeaderCluster,
  options: RunOptions,
): Promise<ClusterIo> {
  const managed = byName.get(cluster.name);
  if (managed === undefined) throw new Error(`unknown cluster ${cluster.name}`);
  const calico = await managed.ready();
  return {
    writer: (fencing) => createClusterWriter(managed.connection, calico, { fencing }),
    sessions: (fencing) =>
      options.sessionCheck === "delay"
        ? createDelaySessionCheck({ delayMs: options.switchoverDelayMs })
        : createCalicoNodeStatusCheck(managed.connection, calico, {
            timeoutMs: options.sessionTimeoutMs,
            fallbackDelayMs: options.switchoverDelayMs,
            fencing,
          }),
  };
}

async function connectClusters(options: RunOptions, logger: Logger): Promise<ManagedCluster[]> {
  const contexts = options.contexts.length === 0 ? [undefined] : options.contexts;
  const clusters: ManagedCluster[] = [];
  for (const context of contexts) {
    const flag = context === undefined ? "the current context" : `--context ${context}`;
    try {
      const connection = connectCluster({
        ...(options.kubeconfigPath === undefined ? {} : { kubeconfigPath: options.kubeconfigPath }),
        ...(context === undefined ? {} : { context }),
      });
      const cluster = createManagedCluster(
        connection,
        { sessionCheck: options.sessionCheck, dryRun: options.dryRun },
        logger,
      );
      try {
        await cluster.ready();
      } catch (err: unknown) {
        // Down or unreachable now is not a mistake to exit on: manage the others, retry it.
        if (!(err instanceof KubeError && err.retryable)) throw err;
        logger.warn(
          { cluster: cluster.name, code: err.code, err: err.message },
          "cannot reach the cluster at start; managing the others and retrying it with backoff",
        );
      }
      clusters.push(cluster);
    } catch (err: unknown) {
      if (err instanceof KubeError && err.code !== "Unknown") {
        throw new CliError("ClusterError", `${flag}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }
  return clusters;
}

function describeReadiness(watcher: Watcher, clusters: readonly ManagedCluster[]): ProbeResult {
  const watched = new Map(watcher.status().clusters.map((c) => [c.name, c]));
  const problems = clusters.flatMap((cluster) => {
    const status = watched.get(cluster.name);
    if (status === undefined) return [`cluster ${cluster.name}: not watched yet`];
    if (status.synced) return [];
    return [
      status.lastError === undefined
        ? `cluster ${cluster.name}: watch not synced yet`
        : `cluster ${cluster.name}: cannot watch it (${status.lastError}); retrying with backoff`,
    ];
  });
  return { ok: problems.length === 0, problems };
}
