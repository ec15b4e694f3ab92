export * from "./run-fleet-service.js";
