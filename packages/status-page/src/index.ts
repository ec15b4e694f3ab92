export * from "./build-cluster-view.js";
export * from "./build-fleet-view.js";
export * from "./create-status-page-routes.js";
