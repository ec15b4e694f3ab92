/**
 * The applier service's configuration: environment variables only (12-factor; the same in
 * docker-compose and Kubernetes). Every problem names its variable, and all of them are
 * reported at once, before anything is connected.
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { checkLeaseTiming, type LeaseTiming } from "@rrfleet/topology-core";
import {
  type LogLevel,
  booleanEnvSchema,
  formatEnvIssues,
  listenAddressSchema,
  logLevelSchema,
  otlpEndpointSchema,
  positiveSecondsSchema,
} from "@rrfleet/telemetry";

/** The applier's typed configuration. */
export interface ApplierConfig {
  readonly applierId: string;
  readonly redisUrl: string;
  readonly redisPrefix: string;
  readonly fleetFile?: string;
  readonly secretsNamespace?: string;
  readonly heartbeatMs: number;
  readonly leaseTiming: LeaseTiming;
  readonly clusterBucket: { readonly ratePerSecond: number; readonly burst: number };
  readonly globalBucket: { readonly ratePerSecond: number; readonly burst: number };
  readonly sessionCheck: "calico-node-status" | "delay";
  readonly switchoverDelayMs: number;
  readonly sessionTimeoutMs: number;
  readonly resyncMs: number;
  readonly maxParallelClusters: number;
  readonly dryRun: boolean;
  readonly listen: { readonly host: string; readonly port: number };
  readonly logLevel: LogLevel;
  readonly otlpEndpoint?: string;
  readonly serviceName: string;
}

/** Every variable the applier reads (the docker-compose test checks against it). */
export const APPLIER_ENV_VARS = [
  "APPLIER_ID",
  "REDIS_URL",
  "REDIS_PREFIX",
  "FLEET_FILE",
  "SECRETS_NAMESPACE",
  "KUBECONFIG",
  "HEARTBEAT_SECONDS",
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
  "LISTEN_ADDRESS",
  "LOG_LEVEL",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_SERVICE_NAME",
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
    APPLIER_ID: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/, {
        error: "must be 1-253 letters, digits, '.', '_' or '-'",
      })
      .optional(),
    REDIS_URL: z
      .string({ error: "is required (redis://host:port)" })
      .regex(/^rediss?:\/\/[^\s]+$/, { error: "must be a redis:// or rediss:// URL" }),
    REDIS_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,64}$/, { error: "must be 1-64 characters without { or }" })
      .default("rrfleet"),
    FLEET_FILE: z.string().min(1).optional(),
    SECRETS_NAMESPACE: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { error: "must be a namespace name" })
      .optional(),
    HEARTBEAT_SECONDS: positiveSecondsSchema.default(10),
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
    LISTEN_ADDRESS: listenAddressSchema.default({ host: "0.0.0.0", port: 9465 }),
    LOG_LEVEL: logLevelSchema.default("info"),
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpointSchema.optional(),
    OTEL_SERVICE_NAME: z.string().min(1).default("rrfleet-applier"),
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

/** What {@link parseApplierConfig} returns. */
export type ApplierConfigParse =
  | { readonly ok: true; readonly config: ApplierConfig }
  | { readonly ok: false; readonly message: string };

/**
 * Reads the configuration from `env` (process.env in production). Unset and empty variables
 * are the same. Never throws: problems come back as one `VARIABLE: message` line each.
 */
export function parseApplierConfig(
  env: Readonly<Record<string, string | undefined>>,
): ApplierConfigParse {
  const present = Object.fromEntries(
    APPLIER_ENV_VARS.flatMap((name) => {
      const value = env[name];
      return value === undefined || value === "" ? [] : [[name, value]];
    }),
  );
  const parsed = schema.safeParse(present);
  // Checked apart from the schema so it is reported with the other problems, not after them.
  const noClusters =
    present["FLEET_FILE"] === undefined && present["SECRETS_NAMESPACE"] === undefined
      ? [
          "FLEET_FILE: set FLEET_FILE or SECRETS_NAMESPACE (or both): the applier needs its clusters",
        ]
      : [];
  if (!parsed.success || noClusters.length > 0) {
    const issues = parsed.success ? [] : [formatEnvIssues(parsed.error)];
    return { ok: false, message: [...issues, ...noClusters].join("\n") };
  }
  const e = parsed.data;
  return {
    ok: true,
    config: {
      applierId: e.APPLIER_ID ?? `${hostname()}-${randomBytes(3).toString("hex")}`,
      redisUrl: e.REDIS_URL,
      redisPrefix: e.REDIS_PREFIX,
      ...(e.FLEET_FILE === undefined ? {} : { fleetFile: e.FLEET_FILE }),
      ...(e.SECRETS_NAMESPACE === undefined ? {} : { secretsNamespace: e.SECRETS_NAMESPACE }),
      heartbeatMs: e.HEARTBEAT_SECONDS * 1000,
      leaseTiming: toLeaseTiming(e),
      clusterBucket: { ratePerSecond: e.CLUSTER_QPS, burst: e.CLUSTER_BURST },
      globalBucket: { ratePerSecond: e.GLOBAL_QPS, burst: e.GLOBAL_BURST },
      sessionCheck: e.SESSION_CHECK,
      switchoverDelayMs: e.SWITCHOVER_DELAY_SECONDS * 1000,
      sessionTimeoutMs: e.SESSION_TIMEOUT_SECONDS * 1000,
      resyncMs: e.RESYNC_SECONDS * 1000,
      maxParallelClusters: e.MAX_PARALLEL_CLUSTERS,
      dryRun: e.DRY_RUN,
      listen: e.LISTEN_ADDRESS,
      logLevel: e.LOG_LEVEL,
      ...(e.OTEL_EXPORTER_OTLP_ENDPOINT === undefined
        ? {}
        : { otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT }),
      serviceName: e.OTEL_SERVICE_NAME,
    },
  };
}
