import {
  createCalicoNodeStatusCheck,
  createClusterWriter,
  createDelaySessionCheck,
  detectCalicoApi,
} from "@rrfleet/kube";
import type { ClusterIo, LeaderCluster } from "../fleet/run-fleet-leader.js";

/** How the leader checks BGP sessions after a step (see `rrctl run --session-check`). */
export interface SessionCheckSettings {
  readonly sessionCheck: "calico-node-status" | "delay";
  readonly switchoverDelayMs: number;
  readonly sessionTimeoutMs: number;
}

/**
 * Connects the leader to one member cluster: detects how it serves Calico (one request), and
 * builds its fenced writers and session check. Throws KubeError when the cluster cannot be
 * reached; the leader retries the cluster with backoff.
 */
export async function openKubeCluster(
  cluster: LeaderCluster,
  settings: SessionCheckSettings,
): Promise<ClusterIo> {
  const connection = cluster.connect();
  const calico = await detectCalicoApi(connection);
  const sessions =
    settings.sessionCheck === "delay"
      ? createDelaySessionCheck({ delayMs: settings.switchoverDelayMs })
      : createCalicoNodeStatusCheck(connection, calico, {
          timeoutMs: settings.sessionTimeoutMs,
          fallbackDelayMs: settings.switchoverDelayMs,
        });
  return {
    writer: (fencing) => createClusterWriter(connection, calico, { fencing }),
    sessions,
  };
}
