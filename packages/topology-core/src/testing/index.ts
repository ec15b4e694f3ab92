export * from "./builders.js";
export * from "./simulate.js";
export * from "./arbitraries.js";
