/**
 * The applier service's configuration: environment variables only (12-factor; the same in
 * docker-compose and Kubernetes). Every problem names its variable, and all of them are
 * reported at once, before anything is connected.
 */
import { z } from "zod";
import { checkLeaseTiming, type LeaseTiming } from "@rrfleet/topology-core";
import {
  FLEET_SERVICE_ENV_VARS,
  type FleetServiceConfig,
  type ServiceConfigParse,
  booleanEnvSchema,
  defaultInstanceId,
  fleetServiceEnvShape,
  parseServiceEnv,
  positiveSecondsSchema,
  toFleetServiceConfig,
} from "@rrfleet/telemetry";

/** The applier's typed configuration. */
export interface ApplierConfig extends FleetServiceConfig {
  readonly applierId: string;
  readonly leaseTiming: LeaseTiming;
  readonly clusterBucket: { readonly ratePerSecond: number; readonly burst: number };
  readonly globalBucket: { readonly ratePerSecond: number; readonly burst: number };
  readonly sessionCheck: "calico-node-status" | "delay";
  readonly switchoverDelayMs: number;
  readonly sessionTimeoutMs: number;
  readonly resyncMs: number;
  readonly maxParallelClusters: number;
  readonly dryRun: boolean;
  /** Serve the read-only status page next to /metrics (`STATUS_PAGE_ENABLED`, default true). */
  readonly statusPageEnabled: boolean;
}

/** Every variable the applier reads (the docker-compose test checks against it). */
export const APPLIER_ENV_VARS = [
  ...FLEET_SERVICE_ENV_VARS,
  "APPLIER_ID",
  "LEASE_SECONDS",
  "RENEW_DEADLINE_SECONDS",
  "RETRY_PERIOD_SECONDS",
  "CLUSTER_QPS",
  "CLUSTER_BURST",
  "GLOBAL_QPS",
  "GLOBAL_BURST",
  "SESSION_CHECK",
  "SWITCHOVER_DELAY_SECONDS",
  "SESSION_TIMEOUT_SECONDS",
  "RESYNC_SECONDS",
  "MAX_PARALLEL_CLUSTERS",
  "DRY_RUN",
  "STATUS_PAGE_ENABLED",
] as const;

const count = (fallback: number, min: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((value, ctx) => {
      const n = Number(value);
      if (value.trim() === "" || !Number.isInteger(n) || n < min) {
        ctx.addIssue({ code: "custom", message: `must be an integer >= ${min}, got "${value}"` });
        return z.NEVER;
      }
      return n;
    });

const rate = (fallback: number) => positiveSecondsSchema.default(fallback);

const schema = z
  .object({
    ...fleetServiceEnvShape({ listenPort: 9465, serviceName: "rrfleet-applier" }),
    APPLIER_ID: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/, {
        error: "must be 1-253 letters, digits, '.', '_' or '-'",
      })
      .optional(),
    LEASE_SECONDS: positiveSecondsSchema.default(15),
    RENEW_DEADLINE_SECONDS: positiveSecondsSchema.default(10),
    RETRY_PERIOD_SECONDS: positiveSecondsSchema.default(2),
    CLUSTER_QPS: rate(5),
    CLUSTER_BURST: count(10, 1),
    GLOBAL_QPS: rate(50),
    GLOBAL_BURST: count(100, 1),
    SESSION_CHECK: z
      .enum(["calico-node-status", "delay"], { error: 'must be "calico-node-status" or "delay"' })
      .default("calico-node-status"),
    SWITCHOVER_DELAY_SECONDS: positiveSecondsSchema.default(5),
    SESSION_TIMEOUT_SECONDS: positiveSecondsSchema.default(120),
    RESYNC_SECONDS: positiveSecondsSchema.default(300),
    MAX_PARALLEL_CLUSTERS: count(8, 1),
    DRY_RUN: booleanEnvSchema.default(false),
    STATUS_PAGE_ENABLED: booleanEnvSchema.default(true),
  })
  .superRefine((env, ctx) => {
    const timing = toLeaseTiming(env);
    for (const problem of checkLeaseTiming(timing)) {
      ctx.addIssue({
        code: "custom",
        path: ["LEASE_SECONDS"],
        message: problem
          .replace("leaseDurationMs", "LEASE_SECONDS")
          .replace("renewDeadlineMs", "RENEW_DEADLINE_SECONDS")
          .replace("retryPeriodMs", "RETRY_PERIOD_SECONDS"),
      });
    }
  });

function toLeaseTiming(env: {
  LEASE_SECONDS: number;
  RENEW_DEADLINE_SECONDS: number;
  RETRY_PERIOD_SECONDS: number;
}): LeaseTiming {
  return {
    leaseDurationMs: env.LEASE_SECONDS * 1000,
    renewDeadlineMs: env.RENEW_DEADLINE_SECONDS * 1000,
    retryPeriodMs: env.RETRY_PERIOD_SECONDS * 1000,
  };
}

/**
 * Reads the configuration from `env` (process.env in production). Unset and empty variables
 * are the same. Never throws: problems come back as one `VARIABLE: message` line each.
 */
export function parseApplierConfig(
  env: Readonly<Record<string, string | undefined>>,
): ServiceConfigParse<ApplierConfig> {
  const parsed = parseServiceEnv(env, APPLIER_ENV_VARS, schema);
  if (!parsed.ok) return parsed;
  const e = parsed.env;
  return {
    ok: true,
    config: {
      ...toFleetServiceConfig(e),
      applierId: e.APPLIER_ID ?? defaultInstanceId(),
      leaseTiming: toLeaseTiming(e),
      clusterBucket: { ratePerSecond: e.CLUSTER_QPS, burst: e.CLUSTER_BURST },
      globalBucket: { ratePerSecond: e.GLOBAL_QPS, burst: e.GLOBAL_BURST },
      sessionCheck: e.SESSION_CHECK,
      switchoverDelayMs: e.SWITCHOVER_DELAY_SECONDS * 1000,
      sessionTimeoutMs: e.SESSION_TIMEOUT_SECONDS * 1000,
      resyncMs: e.RESYNC_SECONDS * 1000,
      maxParallelClusters: e.MAX_PARALLEL_CLUSTERS,
      dryRun: e.DRY_RUN,
      statusPageEnabled: e.STATUS_PAGE_ENABLED,
    },
  };
}
