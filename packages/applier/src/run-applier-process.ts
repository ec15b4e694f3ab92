import { systemClock, type FleetState } from "@rrfleet/fleet-state";
import { runFleetService } from "@rrfleet/fleet-service";
import { createStatusPageRoutes } from "@rrfleet/status-page";
import { createApplierMetrics } from "./metrics.js";
import { createFleetApplierMetrics } from "./fleet/fleet-metrics.js";
import { runApplierService } from "./fleet/run-applier-service.js";
import { parseApplierConfig } from "./service/applier-config.js";
import { openKubeCluster } from "./service/open-kube-cluster.js";

/** Exit code of a leader that lost its lease: restart me as a standby. */
const EXIT_LEASE_LOST = 3;

/**
 * Runs rrfleet-applier in this process until a signal, a lost lease or a fatal error; resolves
 * the exit code. The process around it (configuration, Redis, registry, telemetry, signals,
 * shutdown) is `runFleetService`'s; this is the applier's own part: campaign, plan, write, and
 * serve the read-only status page.
 */
export function runApplierProcess(): Promise<number> {
  return runFleetService({
    program: "rrfleet-applier",
    role: "applier",
    parseConfig: parseApplierConfig,
    instance: (config) => ({ field: "applier", id: config.applierId }),
    stoppingMessage: "stopping: releasing the lease and finishing",
    start: ({ config, logger, tracer, state, registry, metricsRegistry }) => {
      const metrics = createApplierMetrics(metricsRegistry);
      const fleetMetrics = createFleetApplierMetrics(metricsRegistry);
      return {
        liveness: () => ({ ok: true, problems: [] }),
        // Registry problems are shown, but a skipped cluster must not take the applier out.
        readiness: () => ({
          ok: true,
          problems: registry.problems().map((p) => `registry: ${p.message}`),
        }),
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
        startedFields: { dryRun: config.dryRun, statusPage: config.statusPageEnabled },
        run: async (signal) => {
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
              tracer,
              settings: {
                heartbeatMs: config.heartbeatMs,
                clusterBucket: config.clusterBucket,
                globalBucket: config.globalBucket,
                maxParallelClusters: config.maxParallelClusters,
                resyncMs: config.resyncMs,
                dryRun: config.dryRun,
              },
            },
            signal,
          );
          if (exit.kind === "LeaseLost") {
            logger.error(
              { reason: exit.reason },
              "leadership lost: exiting so a fresh standby starts",
            );
            return EXIT_LEASE_LOST;
          }
          return 0;
        },
      };
    },
  });
}

/** The two reads the status page makes, bound to the state (nothing that writes is passed on). */
function readOnly(state: FleetState): Pick<FleetState, "readStatuses" | "readSnapshot"> {
  return {
    readStatuses: () => state.readStatuses(),
    readSnapshot: (cluster) => state.readSnapshot(cluster),
  };
}
