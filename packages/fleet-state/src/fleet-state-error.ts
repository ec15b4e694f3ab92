/**
 * The one coded error type of the shared state. Every error that crosses a port is a
 * {@link FleetStateError}: callers switch on `code` and retry when `retryable`.
 */

/** What went wrong, in the terms a caller acts on. */
export type FleetStateErrorCode =
  /** A caller passed something the store cannot hold (a cluster name with `{`, a zero TTL). */
  | "Invalid"
  /** The fencing token is not the current lease's: the caller is no longer the leader. */
  | "LeaseLost"
  /** Stored data could not be read back (another format version, or damaged). */
  | "Corrupt"
  /** Redis could not be reached or did not answer in time. */
  | "Unavailable"
  /** Redis refused the credentials, or TLS refused the server's certificate: fix the settings. */
  | "Unauthenticated"
  /** Redis answered with an error. */
  | "ServerError";

/** Construction options of {@link FleetStateError}. */
export interface FleetStateErrorOptions {
  readonly retryable?: boolean;
  readonly cause?: unknown;
}

/** A shared-state error with a stable `code`; `cause` keeps the library's error. */
export class FleetStateError extends Error {
  override readonly name = "FleetStateError";
  readonly code: FleetStateErrorCode;
  /** Whether the same call may succeed later. */
  readonly retryable: boolean;

  constructor(code: FleetStateErrorCode, message: string, options: FleetStateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** Reply errors Redis may stop giving on its own (loading, failover, memory freed). */
const TRANSIENT_REPLY = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|OOM|MOVED|ASK)\b/;

/**
 * Maps anything a Redis call threw to a {@link FleetStateError} (one is returned as it is):
 * a reply from the server becomes `ServerError` (retryable when Redis says it is loading,
 * busy, failing over or out of memory), anything else (connection closed, retries exhausted,
 * timeouts) a retryable `Unavailable`. `what` names the operation. Never throws.
 */
export function toFleetStateError(err: unknown, what: string): FleetStateError {
  if (err instanceof FleetStateError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const firstLine = message.split("\n")[0] ?? "";
  if (err instanceof Error && err.name === "ReplyError") {
    return new FleetStateError("ServerError", `${what}: redis replied ${firstLine}`, {
      retryable: TRANSIENT_REPLY.test(message),
      cause: err,
    });
  }
  return new FleetStateError("Unavailable", `${what}: redis unavailable (${firstLine})`, {
    retryable: true,
    cause: err,
  });
}
