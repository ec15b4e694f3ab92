export * from "./execute-step.js";
export * from "./metrics.js";
export * from "./reconcile-cluster.js";
export * from "./run-cluster-controller.js";
export * from "./token-bucket.js";
export * from "./wait-for-observed.js";
