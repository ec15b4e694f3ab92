export * from "./builders.js";
export * from "./simulate.js";
