/**
 * The life of a fleet service process (rrfleet-watcher, rrfleet-applier), the same for both:
 *
 *   parse env ──bad──▶ exit 2 (one `VARIABLE: message` line each)
 *       │
 *   logger, signals, tracing ─▶ Redis (login, TLS; retried while unreachable)
 *       │                          ├─ refused / misconfigured ──▶ exit 2 (logged)
 *       │                          └─ a signal first ──▶ exit 0
 *   fleet state, cluster registry of the role, metrics ─▶ the role starts ─▶ telemetry server
 *       │
 *   registry ready ─▶ the role runs ─▶ its exit code (0 after a signal, 1 when it throws)
 *       │
 *   shutdown, always: server, registry, Redis, tracing; "stopped" logged, logs flushed
 *
 * Each service's main supplies only its role: its configuration parser, its metrics, its probes
 * and its loop.
 */
import {
  connectRedisWhenReady,
  createRedisFleetState,
  FleetStateError,
  type FleetState,
} from "@rrfleet/fleet-state";
import { openClusterRegistry, type ClusterRegistry, type ClusterRole } from "@rrfleet/kube";
import {
  createLogger,
  createMetricsRegistry,
  createRedisUpGauge,
  startTelemetryServer,
  startTracing,
  stopOnSignals,
  type FleetServiceConfig,
  type ProbeResult,
  type ServiceConfigParse,
  type TelemetryRoute,
  type Tracing,
} from "@rrfleet/telemetry";

/** The process's logger: pino, as `createLogger` builds it. */
export type ServiceLogger = ReturnType<typeof createLogger>;

/** Exit code of a configuration the service cannot run with (env, Redis login, TLS). */
export const EXIT_BAD_CONFIGURATION = 2;

/** What a role gets to build itself from. */
export interface FleetServiceContext<C extends FleetServiceConfig> {
  readonly config: C;
  /** Already narrowed to the instance (`{ watcher: id }`). */
  readonly logger: ServiceLogger;
  readonly tracer: Tracing["tracer"];
  /** The Redis-backed shared state (logged in, prefix applied). */
  readonly state: FleetState;
  /** The clusters, with this role's credentials. */
  readonly registry: ClusterRegistry;
  /** The process's private registry: the role adds its metrics here. */
  readonly metricsRegistry: ReturnType<typeof createMetricsRegistry>;
}

/** A started role: its probes, extra routes and loop. */
export interface FleetServiceRole {
  /** `/healthz`. */
  liveness(): ProbeResult;
  /** `/readyz`, beside Redis's own state (not ready while Redis is not). */
  readiness(): ProbeResult;
  /** Read-only routes next to the probes (the applier's status page). */
  readonly routes?: readonly TelemetryRoute[];
  /** Logged with "<program> started". */
  readonly startedFields?: Readonly<Record<string, unknown>>;
  /** Runs until `signal` aborts or the role ends; resolves the process's exit code. */
  run(signal: AbortSignal): Promise<number>;
}

/** What {@link runFleetService} runs. */
export interface FleetServiceSpec<C extends FleetServiceConfig> {
  /** `rrfleet-watcher`: the logger's service, message prefixes. */
  readonly program: string;
  /** Whose cluster credentials the registry hands out. */
  readonly role: ClusterRole;
  readonly parseConfig: (
    env: Readonly<Record<string, string | undefined>>,
  ) => ServiceConfigParse<C>;
  /** The instance id (WATCHER_ID, APPLIER_ID) and the log field it goes in. */
  readonly instance: (config: C) => { readonly field: string; readonly id: string };
  /** Logged on the first SIGTERM/SIGINT: what stopping means for this role. */
  readonly stoppingMessage: string;
  /** Builds the role once Redis and the registry are there; a throw ends the process (1). */
  start(context: FleetServiceContext<C>): FleetServiceRole | Promise<FleetServiceRole>;
}

/** The process around {@link runFleetService}; tests pass their own. */
export interface FleetServiceIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where a configuration error goes (it comes before the logger exists). */
  readonly stderr: (text: string) => void;
  /** Aborts to stop the service; default: the first SIGTERM or SIGINT. */
  readonly stopSignal?: AbortSignal;
  /** Where log lines go; default stdout. */
  readonly logDestination?: Parameters<typeof createLogger>[0]["destination"];
}

const PROCESS_IO: FleetServiceIo = {
  env: process.env,
  stderr: (text) => process.stderr.write(text),
};

/**
 * Runs a fleet service (see the module comment) and resolves its exit code: 0 stopped by a
 * signal, 2 a configuration it cannot run with (an invalid environment, Redis refusing the login
 * or the TLS certificate, unreadable credential files), the role's own code, 1 when the role
 * throws. Never rejects: every failure is logged, never with a credential.
 */
export async function runFleetService<C extends FleetServiceConfig>(
  spec: FleetServiceSpec<C>,
  io: FleetServiceIo = PROCESS_IO,
): Promise<number> {
  const parsed = spec.parseConfig(io.env);
  if (!parsed.ok) {
    io.stderr(`${spec.program}: invalid configuration\n${parsed.message}\n`);
    return EXIT_BAD_CONFIGURATION;
  }
  const config = parsed.config;
  const instance = spec.instance(config);
  const logger = createLogger({
    service: spec.program,
    level: config.logLevel,
    ...(io.logDestination === undefined ? {} : { destination: io.logDestination }),
  }).child({ [instance.field]: instance.id });
  const stopSignal =
    io.stopSignal ??
    stopOnSignals({
      onFirst: (signal) => {
        logger.info({ signal }, spec.stoppingMessage);
      },
    });
  const tracing = startTracing({
    serviceName: config.serviceName,
    serviceInstanceId: instance.id,
    ...(config.otlpEndpoint === undefined ? {} : { otlpEndpoint: config.otlpEndpoint }),
  });

  let redis: Awaited<ReturnType<typeof connectRedisWhenReady>>;
  try {
    redis = await connectRedisWhenReady(config.redis, { signal: stopSignal, logger });
  } catch (err: unknown) {
    const message = err instanceof Error ? err.message : String(err);
    const code = err instanceof FleetStateError ? err.code : undefined;
    logger.error({ err: message, code }, "cannot use Redis with this configuration");
    await tracing.shutdown();
    logger.flush();
    return EXIT_BAD_CONFIGURATION;
  }
  if (redis === undefined) {
    await tracing.shutdown();
    return 0;
  }
  const connection = redis;
  const state = createRedisFleetState(connection, { prefix: config.redisPrefix });
  const registry = openClusterRegistry({
    role: spec.role,
    allowExecCredentials: config.allowExecKubeconfig,
    ...(config.fleetFile === undefined ? {} : { fleetFile: config.fleetFile }),
    ...(config.secretsNamespace === undefined ? {} : { secretsNamespace: config.secretsNamespace }),
    logger: logger.child({ component: "registry" }),
  });
  const metricsRegistry = createMetricsRegistry();
  createRedisUpGauge(metricsRegistry, () => connection.status === "ready");

  let server: Awaited<ReturnType<typeof startTelemetryServer>> | undefined;
  try {
    const role = await spec.start({
      config,
      logger,
      tracer: tracing.tracer,
      state,
      registry,
      metricsRegistry,
    });
    server = await startTelemetryServer({
      host: config.listen.host,
      port: config.listen.port,
      registry: metricsRegistry,
      liveness: () => role.liveness(),
      readiness: () => {
        const own = role.readiness();
        const redisReady = connection.status === "ready";
        return {
          ok: redisReady && own.ok,
          problems: [...(redisReady ? [] : [`redis: ${connection.status}`]), ...own.problems],
        };
      },
      ...(role.routes === undefined ? {} : { routes: role.routes }),
    });
    logger.info({ url: server.url, ...role.startedFields }, `${spec.program} started`);
    await registry.waitForReady(stopSignal);
    return await role.run(stopSignal);
  } catch (err: unknown) {
    if (stopSignal.aborted) return 0;
    logger.error(
      { err: err instanceof Error ? err.message : String(err) },
      `${spec.program.replace(/^rrfleet-/, "")} failed`,
    );
    return 1;
  } finally {
    await server?.close();
    await registry.stop();
    connection.disconnect();
    await tracing.shutdown();
    logger.info({}, `${spec.program} stopped`);
    logger.flush();
  }
}
