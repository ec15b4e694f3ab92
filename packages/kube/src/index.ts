export * from "./connect-cluster.js";
export * from "./detect-calico-api.js";
export * from "./kube-error.js";
export * from "./read-cluster-snapshot.js";
export * from "./check-controller-access.js";
export * from "./check-permissions.js";
export {
  watchCluster,
  type ClusterWatch,
  type ObservedRef,
  type ResourceWatchHealth,
  type WatchClusterOptions,
  type WatchedResource,
  type WatchEventKind,
  type WatchLogger,
} from "./watch-cluster.js";
export * from "./is-resource-version-at-least.js";
export * from "./observed-object.js";
export * from "./write-cluster.js";
export * from "./session-check.js";
export * from "./delay-session-check.js";
export * from "./calico-node-status-check.js";
export * from "./check-calico-version.js";
export * from "./check-session-status-support.js";
export * from "./registry/index.js";
export * from "./compute-backoff-delay.js";
