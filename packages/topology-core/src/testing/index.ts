export * from "./builders.js";
export * from "./simulate.js";
export * from "./arbitraries.js";
export * from "./count-reflector-changes.js";
export * from "./read-assignment.js";
