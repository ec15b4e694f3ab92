import { pino, type DestinationStream, type Logger, type LevelWithSilent } from "pino";
import { redactUrlCredentials } from "./redact-url-credentials.js";

/** Log levels a user may choose, most verbose first. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

/** A level of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The service, e.g. `rrctl-run`; every line carries it as `service`. */
  readonly service: string;
  /** Default `info`. */
  readonly level?: LogLevel;
  /** Where lines go; default stdout (JSON lines). Tests pass a memory stream. */
  readonly destination?: DestinationStream;
}

/**
 * Keys that hold credentials: kubeconfig tokens and client keys (`token`,
 * `client-key-data`), cluster Secret configs (`bearerToken`, `certData`, `keyData`, `caData`),
 * passwords and authorization headers.
 */
const CREDENTIAL_KEYS = [
  "token",
  "bearerToken",
  "password",
  "authorization",
  "clientKey",
  "keyData",
  "certData",
  "caData",
  "client-key-data",
  "client-certificate-data",
  "certificate-authority-data",
] as const;

/**
 * {@link CREDENTIAL_KEYS} wherever they appear up to three levels deep (`config.tlsClientConfig
 * .keyData` inside a logged `cluster`), so a logged error, Secret or config object cannot leak
 * them. pino's paths need the key quoted when it is not an identifier.
 */
const REDACTED_PATHS = CREDENTIAL_KEYS.flatMap((key) => {
  const path = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  const dot = path.startsWith("[") ? "" : ".";
  return [path, `*${dot}${path}`, `*.*${dot}${path}`, `*.*.*${dot}${path}`];
});

/**
 * Builds the process's one pino logger (JSON lines, ISO timestamps, credentials redacted: the
 * keys of {@link CREDENTIAL_KEYS}, and the password of every URL in the message and in string
 * fields, errors included — a Redis URL travels inside connection errors).
 * Call it once in `main` and hand out `logger.child({ component, cluster })`.
 */
export function createLogger(options: LoggerOptions): Logger {
  const level: LevelWithSilent = options.level ?? "info";
  return pino(
    {
      level,
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACTED_PATHS], censor: "[redacted]" },
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => redactStrings(fields, 0) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const redacted = args.map((arg: unknown) =>
            typeof arg === "string" ? redactUrlCredentials(arg) : arg,
          );
          method.apply(this, redacted as Parameters<typeof method>);
        },
      },
    },
    options.destination ?? pino.destination({ sync: true }),
  );
}

/** Whether `value` is one of {@link LOG_LEVELS}. */
export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** Deepest level {@link redactStrings} walks: log fields are shallow, error causes a little deeper. */
const MAX_DEPTH = 6;

/**
 * A copy of `value` with {@link redactUrlCredentials} applied to every string, Errors turned into
 * pino's serialized form first (their message and stack can carry a URL).
 */
function redactStrings(value: unknown, depth: number): unknown {
  if (typeof value === "string") return redactUrlCredentials(value);
  if (depth > MAX_DEPTH || value === null || typeof value !== "object") return value;
  if (value instanceof Error) return redactStrings(pino.stdSerializers.err(value), depth + 1);
  if (Array.isArray(value)) return value.map((item) => redactStrings(item, depth + 1));
  const prototype = Object.getPrototypeOf(value) as unknown;
  const plain = prototype === Object.prototype || prototype === null;
  // pino's serialized errors keep message and stack on a prototype of their own.
  const errorLike = !plain && typeof (value as { message?: unknown }).message === "string";
  if (!plain && !errorLike) return value;
  const fields: [string, unknown][] = Object.entries(value);
  if (errorLike) {
    const { type, message, stack } = value as { type?: unknown; message: string; stack?: unknown };
    fields.push(["message", message], ["stack", stack], ["type", type]);
  }
  return Object.fromEntries(
    fields
      .filter(([, item]) => item !== undefined)
      .map(([key, item]) => [key, redactStrings(item, depth + 1)]),
  );
}
