import {
  createCalicoNodeStatusCheck,
  createClusterWriter,
  createDelaySessionCheck,
  checkSessionStatusSupport,
  detectCalicoApi,
} from "@rrfleet/kube";
import type { ClusterIo, LeaderCluster } from "../fleet/fleet-leader-deps.js";

/** How the leader checks BGP sessions after a step (see `rrctl run --session-check`). */
export interface SessionCheckSettings {
  readonly sessionCheck: "calico-node-status" | "delay";
  readonly switchoverDelayMs: number;
  readonly sessionTimeoutMs: number;
}

/**
 * Connects the leader to one member cluster: detects how it serves Calico, checks that it can
 * confirm sessions through CalicoNodeStatus (unless the delay check is configured), and builds
 * its fenced writers and session check. Throws KubeError when the cluster cannot be reached or
 * cannot confirm sessions; the leader retries the cluster with backoff and writes nothing to it.
 */
export async function openKubeCluster(
  cluster: LeaderCluster,
  settings: SessionCheckSettings,
): Promise<ClusterIo> {
  const connection = cluster.connect();
  const calico = await detectCalicoApi(connection);
  // Without CalicoNodeStatus every wait for sessions would fail: refuse the cluster up front.
  if (settings.sessionCheck === "calico-node-status")
    await checkSessionStatusSupport(connection, calico);
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
