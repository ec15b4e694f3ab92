export * from "./create-logger.js";
export * from "./create-metrics-registry.js";
export * from "./create-redis-up-gauge.js";
export * from "./start-telemetry-server.js";
export * from "./service-env.js";
export * from "./start-tracing.js";
export * from "./stop-on-signals.js";
export * from "./redact-url-credentials.js";
