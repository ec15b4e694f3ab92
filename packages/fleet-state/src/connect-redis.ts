import { Redis } from "ioredis";
import { systemClock } from "./clock.js";
import { FleetStateError } from "./fleet-state-error.js";

/** Options of {@link connectRedis}. */
export interface ConnectRedisOptions {
  /** Give up the first connection after this long; default 10,000 ms. */
  readonly connectTimeoutMs?: number;
  /** Reconnect backoff after a lost connection: doubling from 100 ms up to this; default 5,000 ms. */
  readonly maxReconnectDelayMs?: number;
}

/**
 * Opens the ioredis client the fleet services share, tuned for a coordination cache that may
 * vanish: a command fails fast (one retry, no unbounded offline queue) so callers see
 * `Unavailable` and retry on their own schedule, while the client keeps reconnecting in the
 * background with capped backoff. Resolves once the connection is ready. Rejects with
 * FleetStateError `Invalid` on a URL that is not `redis://` or `rediss://`, and `Unavailable`
 * when the first connection does not come up in time (the client is closed then).
 */
export async function connectRedis(url: string, options: ConnectRedisOptions = {}): Promise<Redis> {
  if (!/^rediss?:\/\/\S+$/.test(url)) {
    throw new FleetStateError("Invalid", `Redis URL must be redis:// or rediss://, got "${url}"`);
  }
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const maxDelay = options.maxReconnectDelayMs ?? 5_000;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: 1,
    // Commands issued while disconnected wait for the reconnect, but only so many.
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(maxDelay, 100 * 2 ** Math.min(times, 10)),
    // A failover replica answers READONLY: reconnect to find the new primary.
    reconnectOnError: (err) => err.message.startsWith("READONLY"),
  });
  // Errors surface through the failing calls; the client's 'error' events would otherwise crash.
  redis.on("error", () => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`no connection after ${connectTimeoutMs} ms`));
        }, connectTimeoutMs);
      }),
    ]);
    return redis;
  } catch (err: unknown) {
    redis.disconnect();
    throw new FleetStateError(
      "Unavailable",
      `cannot connect to Redis at ${redactUrl(url)}: ${err instanceof Error ? err.message : String(err)}`,
      { retryable: true, cause: err },
    );
  } finally {
    clearTimeout(timer);
  }
}

/** The URL without its password, for messages. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

/**
 * {@link connectRedis}, retried with capped backoff (1 s doubling to 30 s) while Redis is not
 * there yet: compose and Kubernetes start services in any order. Resolves undefined when
 * `signal` aborts first. Rejects only on an invalid URL.
 */
export async function connectRedisWhenReady(
  url: string,
  options: {
    readonly signal: AbortSignal;
    /** Told about each failed attempt (a pino logger fits it). */
    readonly logger?: { warn(fields: object, message: string): void };
  },
): Promise<Redis | undefined> {
  for (let attempt = 1; !options.signal.aborted; attempt++) {
    try {
      return await connectRedis(url);
    } catch (err: unknown) {
      if (err instanceof FleetStateError && err.code === "Invalid") throw err;
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
