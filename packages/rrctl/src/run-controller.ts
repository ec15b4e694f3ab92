import {
  createApplierMetrics,
  createClusterController,
  createTokenBucket,
  type ApplierMetrics,
  type ClusterController,
} from "@rrfleet/applier";
import { systemClock } from "@rrfleet/fleet-state";
import {
  checkCalicoVersion,
  checkPermissions,
  connectCluster,
  createAccessReviewClient,
  createCalicoNodeStatusCheck,
  createClusterWriter,
  createDelaySessionCheck,
  detectCalicoApi,
  KubeError,
  listControllerPermissions,
  watchCluster,
  type CalicoApi,
  type ClusterConnection,
  type ClusterWatch,
  type SessionCheck,
} from "@rrfleet/kube";
import {
  createLogger,
  createMetricsRegistry,
  startTelemetryServer,
  type ProbeResult,
} from "@rrfleet/telemetry";
import type { Logger } from "pino";
import { CliError } from "./cli-error.js";
import type { RunOptions } from "./run-command.js";

/** A cluster `rrctl run` manages, connected and checked. */
interface ManagedCluster {
  readonly name: string;
  readonly connection: ClusterConnection;
  readonly calico: CalicoApi;
}

/** A cluster's running parts. */
interface RunningCluster {
  readonly watch: ClusterWatch;
  readonly controller: ClusterController;
}

/** Failures in a row after which a cluster counts as not ready. */
const UNREADY_AFTER_FAILURES = 3;

/**
 * The embedded controller: connects to every cluster and checks the credentials' RBAC before
 * anything is written (a user mistake becomes a {@link CliError} `ClusterError`), serves
 * /metrics /healthz /readyz, then runs one watch and one control loop per cluster until `signal`
 * aborts, and shuts down in order: loops, watches, server.
 */
export async function runController(options: RunOptions, signal: AbortSignal): Promise<void> {
  const logger = createLogger({ service: "rrctl-run", level: options.logLevel });
  const clusters = await connectClusters(options, logger);
  const registry = createMetricsRegistry();
  const metrics = createApplierMetrics(registry);
  const running = clusters.map((cluster) => startCluster(cluster, options, logger, metrics));
  const server = await startTelemetryServer({
    host: options.listenHost,
    port: options.listenPort,
    registry,
    liveness: () => ({ ok: true, problems: [] }),
    readiness: () => describeReadiness(running),
  });
  logger.info(
    { url: server.url, clusters: clusters.map((c) => c.name), dryRun: options.dryRun },
    "rrctl run started: serving /metrics /healthz /readyz",
  );

  const stop = new AbortController();
  const onSignal = (): void => {
    stop.abort(signal.reason);
  };
  signal.addEventListener("abort", onSignal, { once: true });
  if (signal.aborted) onSignal();
  try {
    await Promise.all(
      running.map(async ({ controller }) => {
        try {
          await controller.run(stop.signal);
        } catch (err: unknown) {
          // A loop only throws on a bug: stop the others and fail the process.
          stop.abort(err);
          throw err;
        }
      }),
    );
  } finally {
    signal.removeEventListener("abort", onSignal);
    stop.abort();
    await Promise.all(running.map(({ watch }) => watch.stop()));
    await server.close();
    logger.info({}, "rrctl run stopped");
    logger.flush();
  }
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
      const calico = await detectCalicoApi(connection);
      const version = checkCalicoVersion(calico);
      if (version.kind === "Unknown") {
        logger.warn(
          { cluster: connection.name, calicoVersion: version.version },
          "Calico version unknown (no ClusterInformation default, or not vX.Y.Z); assuming it is supported",
        );
      }
      const permissions = listControllerPermissions(calico, {
        sessionCheck: options.sessionCheck === "calico-node-status",
      }).filter((p) => !options.dryRun || ["get", "list", "watch"].includes(p.verb));
      await checkPermissions(createAccessReviewClient(connection.kubeConfig), permissions);
      logger.info(
        {
          cluster: connection.name,
          calico: calico.apiVersion,
          calicoVersion: calico.calicoVersion,
        },
        "cluster connected; RBAC permissions checked",
      );
      clusters.push({ name: connection.name, connection, calico });
    } catch (err: unknown) {
      if (err instanceof KubeError && err.code !== "Unknown") {
        throw new CliError("ClusterError", `${flag}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }
  return clusters;
}

function startCluster(
  cluster: ManagedCluster,
  options: RunOptions,
  parent: Logger,
  metrics: ApplierMetrics,
): RunningCluster {
  const logger = parent.child({ cluster: cluster.name });
  const watch = watchCluster(cluster.connection, {
    calico: cluster.calico,
    logger: logger.child({ component: "watch" }),
    onEvent: (resource, kind) => {
      metrics.watchEvents.inc({ cluster: cluster.name, resource, kind });
    },
  });
  const sessions: SessionCheck =
    options.sessionCheck === "delay"
      ? createDelaySessionCheck({ delayMs: options.switchoverDelayMs })
      : createCalicoNodeStatusCheck(cluster.connection, cluster.calico, {
          timeoutMs: options.sessionTimeoutMs,
          fallbackDelayMs: options.switchoverDelayMs,
        });
  const controller = createClusterController({
    cluster: cluster.name,
    view: watch,
    writer: createClusterWriter(cluster.connection, cluster.calico),
    sessions,
    bucket: createTokenBucket({
      ratePerSecond: options.qps,
      burst: options.burst,
      clock: systemClock,
    }),
    policy: options.policy,
    clock: systemClock,
    dryRun: options.dryRun,
    resyncMs: options.resyncMs,
    logger: logger.child({ component: "controller" }),
    metrics,
  });
  return { watch, controller };
}

function describeReadiness(running: readonly RunningCluster[]): ProbeResult {
  const problems = running.flatMap(({ controller }) => {
    const status = controller.status();
    if (!status.synced) return [`cluster ${status.cluster}: watch not synced yet`];
    if (status.consecutiveFailures >= UNREADY_AFTER_FAILURES) {
      return [
        `cluster ${status.cluster}: ${status.consecutiveFailures} failed passes in a row: ${status.lastError ?? ""}`,
      ];
    }
    return [];
  });
  return { ok: problems.length === 0, problems };
}
