export * from "./build-secret-kube-config.js";
export * from "./cluster-secret-labels.js";
export * from "./create-cluster-registry.js";
export * from "./diff-clusters.js";
export * from "./load-fleet-file.js";
export * from "./merge-policy-overrides.js";
export * from "./parse-cluster-secret.js";
export * from "./parse-fleet-file.js";
export * from "./registered-cluster.js";
export * from "./registry-problem.js";
export {
  startClusterSecretWatch,
  watchClusterSecrets,
  type ClusterSecretSource,
  type WatchClusterSecretsOptions,
} from "./watch-cluster-secrets.js";
