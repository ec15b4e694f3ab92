// Test helpers other packages' tests use (the contract suite stays private: it imports vitest).
export * from "./create-manual-clock.js";
export * from "./make-realistic-snapshot.js";
export * from "./start-redis-server.js";
export * from "./make-tls-files.js";
