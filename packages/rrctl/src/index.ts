export * from "./cli.js";
export * from "./cli-error.js";
export * from "./format-plan-text.js";
export * from "./format-table.js";
export * from "./load-cluster-snapshot.js";
export * from "./load-policy.js";
export * from "./parse-timestamp.js";
export * from "./plan-command.js";
