import { connectCluster, readClusterSnapshot } from "@rrfleet/kube";
import type { ClusterSnapshot } from "@rrfleet/topology-core";
import type { LiveClusterTarget } from "./plan-command.js";

/**
 * Connects with the kubeconfig and context and reads a snapshot, read-only (LISTs and one GET).
 * Throws `KubeError` from `@rrfleet/kube` for every connection, RBAC, API or object problem.
 */
export function readLiveCluster(target: LiveClusterTarget): Promise<ClusterSnapshot> {
  return readClusterSnapshot(connectCluster(target));
}
