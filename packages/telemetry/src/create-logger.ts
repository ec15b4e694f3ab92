import { pino, type DestinationStream, type Logger, type LevelWithSilent } from "pino";

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
 * Fields that may hold credentials: kubeconfig tokens, client keys, passwords. Redacted wherever
 * they appear one or two levels deep, so a logged error or config object cannot leak them.
 */
const REDACTED_PATHS = [
  "token",
  "password",
  "authorization",
  "*.token",
  "*.password",
  "*.authorization",
  "*.clientKey",
  "*.keyData",
  "*.client-key-data",
  "*.*.token",
  "*.*.authorization",
] as const;

/**
 * Builds the process's one pino logger (JSON lines, ISO timestamps, credentials redacted).
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
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ sync: true }),
  );
}

/** Whether `value` is one of {@link LOG_LEVELS}. */
export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}
