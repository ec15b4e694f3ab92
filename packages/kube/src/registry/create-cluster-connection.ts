import { ApisApi, CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import type { ClusterConnection } from "../connect-cluster.js";

/**
 * Builds the API clients of a {@link ClusterConnection} on `kubeConfig`'s current context, the
 * way `connectCluster` does for a kubeconfig file. Makes no request; never throws.
 */
export function createClusterConnection(name: string, kubeConfig: KubeConfig): ClusterConnection {
  return {
    name,
    kubeConfig,
    core: kubeConfig.makeApiClient(CoreV1Api),
    custom: kubeConfig.makeApiClient(CustomObjectsApi),
    apis: kubeConfig.makeApiClient(ApisApi),
  };
}
