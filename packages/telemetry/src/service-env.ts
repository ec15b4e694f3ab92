/**
 * Environment-variable schemas the fleet services share (zod), so every service reads
 * LISTEN_ADDRESS, LOG_LEVEL, OTEL_EXPORTER_OTLP_ENDPOINT, booleans and durations alike and
 * reports problems alike: `VARIABLE: message`, one line each.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { z } from "zod";
import { LOG_LEVELS, type LogLevel } from "./create-logger.js";

/** `host:port` (IPv6 hosts in brackets) → `{ host, port }`; port 0 picks a free one. */
export const listenAddressSchema = z.string().transform((value, ctx) => {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]*):(\d{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (match === null || !(port >= 0 && port <= 65_535)) {
    ctx.addIssue({
      code: "custom",
      message: `must be HOST:PORT with a port from 0 to 65535, got "${value}"`,
    });
    return z.NEVER;
  }
  const host = (match[1] ?? "").replace(/^\[|\]$/g, "");
  return { host: host === "" ? "0.0.0.0" : host, port };
});

/** One of pino's levels. */
export const logLevelSchema = z.enum(LOG_LEVELS, {
  error: `must be one of ${LOG_LEVELS.join(", ")}`,
});

/** An http(s) URL: the OTLP/HTTP collector's base URL. */
export const otlpEndpointSchema = z.string().refine((value) => /^https?:\/\/[^\s/]+/.test(value), {
  error: "must be an http:// or https:// URL",
});

/** `true`/`false`/`1`/`0` (any case) → boolean. */
export const booleanEnvSchema = z.string().transform((value, ctx) => {
  const lower = value.toLowerCase();
  if (lower === "true" || lower === "1") return true;
  if (lower === "false" || lower === "0") return false;
  ctx.addIssue({ code: "custom", message: `must be true or false, got "${value}"` });
  return z.NEVER;
});

/** A number of seconds > 0 (fractions allowed: `0.5`) → number. */
export const positiveSecondsSchema = z.string().transform((value, ctx) => {
  const seconds = Number(value);
  if (value.trim() === "" || !Number.isFinite(seconds) || seconds <= 0) {
    ctx.addIssue({ code: "custom", message: `must be a number of seconds > 0, got "${value}"` });
    return z.NEVER;
  }
  return seconds;
});

/** One `VARIABLE: message` line per issue, in the order zod found them. */
export function formatEnvIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const variable = issue.path.map(String).join(".");
      const message =
        issue.code === "invalid_type" && issue.input === undefined ? "is required" : issue.message;
      return `${variable === "" ? "environment" : variable}: ${message}`;
    })
    .join("\n");
}

/**
 * The variables every fleet service reads alike (Redis, where clusters are registered, the
 * heartbeat period, telemetry). Spread into a service's own `z.object({...})`.
 */
export function fleetServiceEnvShape(defaults: {
  readonly listenPort: number;
  readonly serviceName: string;
}) {
  const path = z.string().min(1);
  return {
    REDIS_URL: z
      .string({ error: "is required (redis://host:port)" })
      .regex(/^rediss?:\/\/\S+$/, { error: "must be a redis:// or rediss:// URL" }),
    REDIS_USERNAME: z.string().min(1).optional(),
    REDIS_PASSWORD_FILE: path.optional(),
    REDIS_TLS_CA_FILE: path.optional(),
    REDIS_TLS_CERT_FILE: path.optional(),
    REDIS_TLS_KEY_FILE: path.optional(),
    ALLOW_EXEC_KUBECONFIG: booleanEnvSchema.default(false),
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
    LISTEN_ADDRESS: listenAddressSchema.default({ host: "0.0.0.0", port: defaults.listenPort }),
    LOG_LEVEL: logLevelSchema.default("info"),
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpointSchema.optional(),
    OTEL_SERVICE_NAME: z.string().min(1).default(defaults.serviceName),
  };
}

/** The variable names of {@link fleetServiceEnvShape}, plus KUBECONFIG (the control cluster's Secrets). */
export const FLEET_SERVICE_ENV_VARS = [
  "REDIS_URL",
  "REDIS_USERNAME",
  "REDIS_PASSWORD_FILE",
  "REDIS_TLS_CA_FILE",
  "REDIS_TLS_CERT_FILE",
  "REDIS_TLS_KEY_FILE",
  "ALLOW_EXEC_KUBECONFIG",
  "REDIS_PREFIX",
  "FLEET_FILE",
  "SECRETS_NAMESPACE",
  "KUBECONFIG",
  "HEARTBEAT_SECONDS",
  "LISTEN_ADDRESS",
  "LOG_LEVEL",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_SERVICE_NAME",
] as const;

/**
 * Where Redis is and how to log in: the same shape as fleet-state's `RedisConnectionSettings`
 * (connectRedis reads the files).
 */
export interface RedisSettings {
  /** REDIS_URL: `redis://host:port[/db]`, `rediss://` for TLS. */
  readonly url: string;
  /** REDIS_USERNAME: the ACL user; default Redis's `default` user. */
  readonly username?: string;
  /** REDIS_PASSWORD_FILE: the file holding the password (a mounted Secret). */
  readonly passwordFile?: string;
  /** REDIS_TLS_CA_FILE, REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE (rediss:// only). */
  readonly tls?: {
    readonly caFile?: string;
    readonly certFile?: string;
    readonly keyFile?: string;
  };
}

/** The part of a fleet service's configuration {@link fleetServiceEnvShape} reads. */
export interface FleetServiceConfig {
  readonly redis: RedisSettings;
  readonly redisPrefix: string;
  /**
   * ALLOW_EXEC_KUBECONFIG (default false): accept fleet-file kubeconfigs whose user runs a
   * command for credentials (`exec`, an auth-provider's `cmd-path`). Off, because whoever can
   * edit the fleet file or a kubeconfig would otherwise run code in the service.
   */
  readonly allowExecKubeconfig: boolean;
  readonly fleetFile?: string;
  readonly secretsNamespace?: string;
  readonly heartbeatMs: number;
  readonly listen: { readonly host: string; readonly port: number };
  readonly logLevel: LogLevel;
  readonly otlpEndpoint?: string;
  readonly serviceName: string;
}

/** The typed {@link FleetServiceConfig} of variables parsed with {@link fleetServiceEnvShape}. */
export function toFleetServiceConfig(e: {
  readonly REDIS_URL: string;
  readonly REDIS_USERNAME?: string | undefined;
  readonly REDIS_PASSWORD_FILE?: string | undefined;
  readonly REDIS_TLS_CA_FILE?: string | undefined;
  readonly REDIS_TLS_CERT_FILE?: string | undefined;
  readonly REDIS_TLS_KEY_FILE?: string | undefined;
  readonly ALLOW_EXEC_KUBECONFIG: boolean;
  readonly REDIS_PREFIX: string;
  readonly FLEET_FILE?: string | undefined;
  readonly SECRETS_NAMESPACE?: string | undefined;
  readonly HEARTBEAT_SECONDS: number;
  readonly LISTEN_ADDRESS: { readonly host: string; readonly port: number };
  readonly LOG_LEVEL: LogLevel;
  readonly OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  readonly OTEL_SERVICE_NAME: string;
}): FleetServiceConfig {
  const tls = {
    ...(e.REDIS_TLS_CA_FILE === undefined ? {} : { caFile: e.REDIS_TLS_CA_FILE }),
    ...(e.REDIS_TLS_CERT_FILE === undefined ? {} : { certFile: e.REDIS_TLS_CERT_FILE }),
    ...(e.REDIS_TLS_KEY_FILE === undefined ? {} : { keyFile: e.REDIS_TLS_KEY_FILE }),
  };
  return {
    redis: {
      url: e.REDIS_URL,
      ...(e.REDIS_USERNAME === undefined ? {} : { username: e.REDIS_USERNAME }),
      ...(e.REDIS_PASSWORD_FILE === undefined ? {} : { passwordFile: e.REDIS_PASSWORD_FILE }),
      ...(Object.keys(tls).length === 0 ? {} : { tls }),
    },
    redisPrefix: e.REDIS_PREFIX,
    allowExecKubeconfig: e.ALLOW_EXEC_KUBECONFIG,
    ...(e.FLEET_FILE === undefined ? {} : { fleetFile: e.FLEET_FILE }),
    ...(e.SECRETS_NAMESPACE === undefined ? {} : { secretsNamespace: e.SECRETS_NAMESPACE }),
    heartbeatMs: e.HEARTBEAT_SECONDS * 1000,
    listen: e.LISTEN_ADDRESS,
    logLevel: e.LOG_LEVEL,
    ...(e.OTEL_EXPORTER_OTLP_ENDPOINT === undefined
      ? {}
      : { otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT }),
    serviceName: e.OTEL_SERVICE_NAME,
  };
}

/** What a service's config parser returns. */
export type ServiceConfigParse<T> =
  { readonly ok: true; readonly config: T } | { readonly ok: false; readonly message: string };

/**
 * Parses the variables `names` of `env` with `schema` (unset and empty are the same) and checks
 * that a cluster source is set; every problem comes back as one `VARIABLE: message` line, all
 * at once. Never throws.
 */
export function parseServiceEnv<S extends z.ZodType>(
  env: Readonly<Record<string, string | undefined>>,
  names: readonly string[],
  schema: S,
):
  | { readonly ok: true; readonly env: z.output<S> }
  | { readonly ok: false; readonly message: string } {
  const present = Object.fromEntries(
    names.flatMap((name) => {
      const value = env[name];
      return value === undefined || value === "" ? [] : [[name, value]];
    }),
  );
  const parsed = schema.safeParse(present);
  // Checked apart from the schema so it is reported with the other problems, not after them.
  const noClusters =
    present["FLEET_FILE"] === undefined && present["SECRETS_NAMESPACE"] === undefined
      ? [
          "FLEET_FILE: set FLEET_FILE or SECRETS_NAMESPACE (or both): the service needs its clusters",
        ]
      : [];
  const redisProblems = checkRedisEnv(present);
  if (!parsed.success || noClusters.length > 0 || redisProblems.length > 0) {
    const issues = parsed.success ? [] : [formatEnvIssues(parsed.error)];
    return { ok: false, message: [...issues, ...noClusters, ...redisProblems].join("\n") };
  }
  return { ok: true, env: parsed.data };
}

/**
 * The Redis variables that do not fit together, one `VARIABLE: message` line each (connectRedis
 * checks the same at connect time, for callers that skip this parser): TLS files with a
 * redis:// URL, a client certificate without its key or the reverse, a password both in the URL
 * and in a file.
 */
function checkRedisEnv(env: Readonly<Record<string, string>>): string[] {
  const url = env["REDIS_URL"];
  if (url === undefined) return [];
  const problems: string[] = [];
  const tlsVariable = ["REDIS_TLS_CA_FILE", "REDIS_TLS_CERT_FILE", "REDIS_TLS_KEY_FILE"].find(
    (name) => env[name] !== undefined,
  );
  if (tlsVariable !== undefined && !url.startsWith("rediss://")) {
    problems.push(`${tlsVariable}: TLS settings need a rediss:// REDIS_URL`);
  }
  if (env["REDIS_TLS_CERT_FILE"] !== undefined && env["REDIS_TLS_KEY_FILE"] === undefined) {
    problems.push(
      "REDIS_TLS_KEY_FILE: is required with REDIS_TLS_CERT_FILE (the client certificate's key)",
    );
  }
  if (env["REDIS_TLS_KEY_FILE"] !== undefined && env["REDIS_TLS_CERT_FILE"] === undefined) {
    problems.push(
      "REDIS_TLS_CERT_FILE: is required with REDIS_TLS_KEY_FILE (the key's certificate)",
    );
  }
  // userinfo with a colon: `redis://user:password@` or `redis://:password@`.
  if (env["REDIS_PASSWORD_FILE"] !== undefined && /^rediss?:\/\/[^/@]*:[^/]*@/.test(url)) {
    problems.push(
      "REDIS_PASSWORD_FILE: REDIS_URL holds a password too; keep one (the file: a URL ends up in process listings and logs)",
    );
  }
  return problems;
}

/** A process-unique default id: `<hostname>-<6 random hex>`. */
export function defaultInstanceId(): string {
  return `${hostname()}-${randomBytes(3).toString("hex")}`;
}
