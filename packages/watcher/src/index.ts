export * from "./create-watcher.js";
export * from "./watcher-config.js";
export * from "./watcher-metrics.js";
