/**
 * One cluster `rrctl run` manages: its kubeconfig context resolved at start, and the checks that
 * must pass before anything is written to it — Calico API and version, CalicoNodeStatus support
 * (with `--session-check calico-node-status`), and every RBAC permission the controller uses
 * (SelfSubjectAccessReviews) — run on first use and again after a failure, so a cluster that
 * cannot be reached at start is picked up once it can (the watcher retries it with backoff).
 */
import {
  checkCalicoVersion,
  checkControllerAccess,
  detectCalicoApi,
  type CalicoApi,
  type ControllerAccess,
  type ClusterConnection,
} from "@rrfleet/kube";
import type { Logger } from "pino";

/** A cluster `rrctl run` manages. */
export interface ManagedCluster {
  readonly name: string;
  readonly connection: ClusterConnection;
  /**
   * Resolves with its Calico API once every check passed (then remembered); rejects with the
   * check's KubeError otherwise (nothing remembered: the next call checks again).
   */
  ready(): Promise<CalicoApi>;
}

/** What the checks need to know: how sessions are confirmed, and whether this is a dry run. */
export type ManagedClusterChecks = ControllerAccess;

/** Creates the {@link ManagedCluster} of `connection`; makes no request until `ready`. */
export function createManagedCluster(
  connection: ClusterConnection,
  checks: ManagedClusterChecks,
  logger: Logger,
): ManagedCluster {
  let ready: Promise<CalicoApi> | undefined;
  const check = async (): Promise<CalicoApi> => {
    const calico = await detectCalicoApi(connection);
    const version = checkCalicoVersion(calico);
    if (version.kind === "Unknown") {
      logger.warn(
        { cluster: connection.name, calicoVersion: version.version },
        "Calico version unknown (no ClusterInformation default, or not vX.Y.Z); assuming it is supported",
      );
    }
    await checkControllerAccess(connection, calico, checks);
    logger.info(
      { cluster: connection.name, calico: calico.apiVersion, calicoVersion: calico.calicoVersion },
      "cluster connected; RBAC permissions checked",
    );
    return calico;
  };
  return {
    name: connection.name,
    connection,
    ready: () => {
      if (ready === undefined) {
        const attempt = check();
        ready = attempt;
        attempt.catch(() => {
          if (ready === attempt) ready = undefined;
        });
      }
      return ready;
    },
  };
}
