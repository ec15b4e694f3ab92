export * from "./find-old-node.js";
