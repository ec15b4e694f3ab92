import { Redis } from "ioredis";
import { systemClock } from "./clock.js";
import { FleetStateError } from "./fleet-state-error.js";
import { resolveRedisOptions, type RedisConnectionSettings } from "./resolve-redis-options.js";

/** Options of {@link connectRedis}. */
export interface ConnectRedisOptions {
  /** Give up the first connection after this long; default 10,000 ms. */
  readonly connectTimeoutMs?: number;
  /** Reconnect backoff after a lost connection: doubling from 100 ms up to this; default 5,000 ms. */
  readonly maxReconnectDelayMs?: number;
}

/** Replies that mean Redis refused who we are (AUTH, or a user without rights to PING). */
const AUTH_REPLY = /^(WRONGPASS|NOAUTH|NOPERM)\b/;

/** Node's TLS errors about the peer's certificate: a configuration problem, not an outage. */
const CERTIFICATE_ERROR =
  /^(CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH)/;

/**
 * Opens the ioredis client the fleet services share, tuned for a coordination cache that may
 * vanish: a command fails fast (one retry, no unbounded offline queue) so callers see
 * `Unavailable` and retry on their own schedule, while the client keeps reconnecting in the
 * background with capped backoff. `target` is a URL or the full settings (ACL user, password
 * file, TLS CA and client certificate: see {@link RedisConnectionSettings}). Resolves once the
 * connection is ready and answers PING as the configured user. Rejects with FleetStateError
 * `Invalid` on settings that do not fit together or files that cannot be read (naming the
 * variable), `Unauthenticated` when Redis refuses the credentials or TLS refuses the server's
 * certificate (not retryable: a configuration error), and a retryable `Unavailable` when the
 * first connection does not come up in time (the client is closed then). No message holds a
 * password.
 */
export async function connectRedis(
  target: string | RedisConnectionSettings,
  options: ConnectRedisOptions = {},
): Promise<Redis> {
  const settings = typeof target === "string" ? { url: target } : target;
  const resolved = await resolveRedisOptions(settings);
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const maxDelay = options.maxReconnectDelayMs ?? 5_000;
  const redis = new Redis({
    ...resolved.options,
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: 1,
    // Commands issued while disconnected wait for the reconnect, but only so many.
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(maxDelay, 100 * 2 ** Math.min(times, 10)),
    // A failover replica answers READONLY: reconnect to find the new primary.
    reconnectOnError: (err) => err.message.startsWith("READONLY"),
  });
  // The first error while connecting explains a failure better than the timeout does.
  let firstError: unknown;
  // Errors surface through the failing calls; the client's 'error' events would otherwise crash.
  redis.on("error", (err: unknown) => {
    firstError ??= err;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await redis.connect();
        // ioredis reports a refused AUTH as an 'error' event, not as a failed connect: PING
        // proves the login worked (NOAUTH otherwise).
        await redis.ping();
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`no connection after ${connectTimeoutMs} ms`));
        }, connectTimeoutMs);
      }),
    ]);
    return redis;
  } catch (err: unknown) {
    redis.disconnect();
    throw describeConnectFailure(resolved.target, settings, firstError ?? err, err);
  } finally {
    clearTimeout(timer);
  }
}

/** The FleetStateError for a first connection that failed with `cause`. */
function describeConnectFailure(
  target: string,
  settings: RedisConnectionSettings,
  cause: unknown,
  last: unknown,
): FleetStateError {
  const message = (cause instanceof Error ? cause.message : String(cause)).split("\n")[0] ?? "";
  const code =
    typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : "";
  if (AUTH_REPLY.test(message)) {
    const variables = ["REDIS_USERNAME", "REDIS_PASSWORD_FILE"].join(", ");
    return new FleetStateError(
      "Unauthenticated",
      `Redis at ${target} refused the credentials (${variables}): ${message}`,
      { cause },
    );
  }
  if (CERTIFICATE_ERROR.test(code)) {
    const variable =
      settings.tls?.caFile === undefined
        ? "REDIS_TLS_CA_FILE unset: system CAs"
        : "REDIS_TLS_CA_FILE";
    return new FleetStateError(
      "Unauthenticated",
      `TLS with Redis at ${target} failed (${variable}): ${message}`,
      { cause },
    );
  }
  const lastMessage = (last instanceof Error ? last.message : String(last)).split("\n")[0] ?? "";
  return new FleetStateError(
    "Unavailable",
    `cannot connect to Redis at ${target}: ${message}${lastMessage === message ? "" : ` (${lastMessage})`}`,
    { retryable: true, cause },
  );
}

/**
 * {@link connectRedis}, retried with capped backoff (1 s doubling to 30 s) while Redis is not
 * there yet: compose and Kubernetes start services in any order. Resolves undefined when
 * `signal` aborts first. Rejects at once on `Invalid` and `Unauthenticated` (settings to fix,
 * not an outage to wait out).
 */
export async function connectRedisWhenReady(
  target: string | RedisConnectionSettings,
  options: {
    readonly signal: AbortSignal;
    /** Told about each failed attempt (a pino logger fits it). */
    readonly logger?: { warn(fields: object, message: string): void };
  },
): Promise<Redis | undefined> {
  for (let attempt = 1; !options.signal.aborted; attempt++) {
    try {
      return await connectRedis(target);
    } catch (err: unknown) {
      if (err instanceof FleetStateError && !err.retryable) throw err;
      const retryInMs = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
      options.logger?.warn(
        { err: err instanceof Error ? err.message : String(err), attempt, retryInMs },
        "Redis is not reachable yet; retrying",
      );
      await systemClock.sleep(retryInMs, options.signal).catch(() => undefined);
    }
  }
  return undefined;
}
