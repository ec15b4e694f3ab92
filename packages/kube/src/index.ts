export * from "./connect-cluster.js";
export * from "./detect-calico-api.js";
export * from "./kube-error.js";
export * from "./read-cluster-snapshot.js";
