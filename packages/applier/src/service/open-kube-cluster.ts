import {
  checkControllerAccess,
  createCalicoNodeStatusCheck,
  createClusterWriter,
  createDelaySessionCheck,
  detectCalicoApi,
} from "@rrfleet/kube";
import type { ClusterIo, LeaderCluster } from "../fleet/fleet-leader-deps.js";

/** How the leader checks BGP sessions after a step (see `rrctl run --session-check`). */
export interface SessionCheckSettings {
  readonly sessionCheck: "calico-node-status" | "delay";
  readonly switchoverDelayMs: number;
  readonly sessionTimeoutMs: number;
  /** A dry run writes nothing: only the read permissions are required. Default false. */
  readonly dryRun?: boolean;
}

/**
 * Connects the leader to one member cluster: detects how it serves Calico, checks that it can
 * confirm sessions through CalicoNodeStatus (unless the delay check is configured), asks
 * SelfSubjectAccessReviews for every permission the leader will use there (the same list and
 * check as `rrctl run` at start: a leader that finds a missing verb halfway through a plan leaves
 * the cluster half-changed), and builds its fenced writers and session check. Throws KubeError
 * when the cluster cannot be reached, cannot confirm sessions, or the credentials lack a
 * permission (`Forbidden`, naming each); the leader then writes nothing to it, sets its status
 * `Failing` with the reason, and retries it with backoff (so granting the role heals it).
 */
export async function openKubeCluster(
  cluster: LeaderCluster,
  settings: SessionCheckSettings,
): Promise<ClusterIo> {
  const connection = cluster.connect();
  const calico = await detectCalicoApi(connection);
  // Without CalicoNodeStatus every wait for sessions would fail: refuse the cluster up front.
  await checkControllerAccess(connection, calico, {
    sessionCheck: settings.sessionCheck,
    dryRun: settings.dryRun === true,
  });
  return {
    writer: (fencing) => createClusterWriter(connection, calico, { fencing }),
    sessions: (fencing) =>
      settings.sessionCheck === "delay"
        ? createDelaySessionCheck({ delayMs: settings.switchoverDelayMs })
        : createCalicoNodeStatusCheck(connection, calico, {
            timeoutMs: settings.sessionTimeoutMs,
            fallbackDelayMs: settings.switchoverDelayMs,
            fencing,
          }),
  };
}
