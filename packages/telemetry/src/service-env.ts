/**
 * Environment-variable schemas the fleet services share (zod), so every service reads
 * LISTEN_ADDRESS, LOG_LEVEL, OTEL_EXPORTER_OTLP_ENDPOINT, booleans and durations alike and
 * reports problems alike: `VARIABLE: message`, one line each.
 */
import { z } from "zod";
import { LOG_LEVELS } from "./create-logger.js";

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
