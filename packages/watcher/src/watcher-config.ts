/**
 * The watcher service's configuration: environment variables only. Every problem names its
 * variable, and all of them are reported at once, before anything is connected.
 */
import { z } from "zod";
import {
  FLEET_SERVICE_ENV_VARS,
  type FleetServiceConfig,
  type ServiceConfigParse,
  defaultInstanceId,
  fleetServiceEnvShape,
  parseServiceEnv,
  toFleetServiceConfig,
} from "@rrfleet/telemetry";

/** The watcher's typed configuration. */
export interface WatcherConfig extends FleetServiceConfig {
  readonly watcherId: string;
  readonly capacity?: number;
}

/** Every variable the watcher reads (the docker-compose test checks against it). */
export const WATCHER_ENV_VARS = [...FLEET_SERVICE_ENV_VARS, "WATCHER_ID", "CAPACITY"] as const;

const schema = z.object({
  ...fleetServiceEnvShape({ listenPort: 9464, serviceName: "rrfleet-watcher" }),
  WATCHER_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/, {
      error: "must be 1-253 letters, digits, '.', '_' or '-'",
    })
    .optional(),
  CAPACITY: z
    .string()
    .transform((value, ctx) => {
      const n = Number(value);
      if (value.trim() === "" || !Number.isFinite(n) || n <= 0) {
        ctx.addIssue({ code: "custom", message: `must be a number > 0, got "${value}"` });
        return z.NEVER;
      }
      return n;
    })
    .optional(),
});

/**
 * Reads the configuration from `env` (process.env in production). Unset and empty variables
 * are the same. Never throws: problems come back as one `VARIABLE: message` line each.
 */
export function parseWatcherConfig(
  env: Readonly<Record<string, string | undefined>>,
): ServiceConfigParse<WatcherConfig> {
  const parsed = parseServiceEnv(env, WATCHER_ENV_VARS, schema);
  if (!parsed.ok) return parsed;
  const e = parsed.env;
  return {
    ok: true,
    config: {
      ...toFleetServiceConfig(e),
      watcherId: e.WATCHER_ID ?? defaultInstanceId(),
      ...(e.CAPACITY === undefined ? {} : { capacity: e.CAPACITY }),
    },
  };
}
