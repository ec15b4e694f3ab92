export * from "./find-old-node.js";
export * from "./describe-entry-point-node-check.js";
