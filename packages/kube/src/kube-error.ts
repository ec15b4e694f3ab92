/**
 * The one coded error type of the Kubernetes adapters. Every error that crosses the adapter
 * boundary is a {@link KubeError}: callers switch on `code`, retry when `retryable`, and show
 * `message` (one line, naming the verb and resource) to people.
 */
import { ApiException } from "@kubernetes/client-node";

/** What went wrong, in the terms a caller acts on. */
export type KubeErrorCode =
  | "Conflict"
  | "Forbidden"
  | "NotFound"
  | "Gone"
  | "TooManyRequests"
  | "ServerError"
  | "Unavailable"
  | "Invalid"
  | "Unauthorized"
  | "Unknown"
  /** A fenced write was refused before it was sent: a newer fleet leader owns the object, or this one's lease ran out. */
  | "Fenced";

/** The request an error happened in, for the message: `list nodes`, `get bgppeers "x"`. */
export interface KubeRequestContext {
  /** The RBAC verb: `list`, `get`, `create`, `patch`, `update`, `delete`, `watch`. */
  readonly verb: string;
  /** The plural resource, with its group for non-core ones: `nodes`, `bgppeers.crd.projectcalico.org`. */
  readonly resource: string;
  readonly name?: string;
  /** Undefined for cluster-scoped resources (every resource rrfleet reads today). */
  readonly namespace?: string;
}

/** Construction options of {@link KubeError}. */
export interface KubeErrorOptions {
  readonly retryable?: boolean;
  readonly retryAfterSeconds?: number;
  readonly cause?: unknown;
}

/** An adapter error with a stable `code`; `cause` keeps the library's error. */
export class KubeError extends Error {
  override readonly name = "KubeError";
  readonly code: KubeErrorCode;
  /** Whether the same request may succeed later (after `retryAfterSeconds` when given). */
  readonly retryable: boolean;
  /** Seconds the server asked us to wait (429 Retry-After); undefined when it did not say. */
  readonly retryAfterSeconds?: number;

  constructor(code: KubeErrorCode, message: string, options: KubeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Socket-level failures worth retrying: the server may come back. */
const NETWORK_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

/** TLS failures: retrying does not help, the kubeconfig's CA or server address must change. */
const TLS_ERROR_CODE =
  /^(CERT_|ERR_TLS_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_)/;

/**
 * Maps anything a client-node 2.x call threw to a {@link KubeError} (a `KubeError` is returned
 * as it is). HTTP statuses come from `ApiException.code`, the server's `Status` message from its
 * `body` (a JSON string or object), Retry-After from its `headers`; socket errors and timeouts
 * (searched along the `cause` chain, where undici puts them) become retryable `Unavailable`.
 * Never throws.
 */
export function toKubeError(err: unknown, context: KubeRequestContext): KubeError {
  if (err instanceof KubeError) return err;
  const what = describeRequest(context);
  if (err instanceof ApiException) return fromStatus(err, context, what);

  const network = findNetworkCause(err);
  if (network !== undefined) {
    return new KubeError(
      "Unavailable",
      `${what}: cannot reach the API server (${network.detail})`,
      { retryable: network.retryable, cause: err },
    );
  }
  return new KubeError("Unknown", `${what}: ${firstLine(messageOf(err))}`, { cause: err });
}

function fromStatus(
  err: ApiException<unknown>,
  context: KubeRequestContext,
  what: string,
): KubeError {
  const status = err.code;
  const body = parseBody(err.body);
  const said = body.message === undefined ? `HTTP ${status}` : firstLine(body.message);
  const cause = { cause: err };
  switch (true) {
    case status === 401:
      return new KubeError(
        "Unauthorized",
        `${what}: unauthorized: the API server rejected the kubeconfig's credentials (${said})`,
        cause,
      );
    case status === 403:
      return new KubeError("Forbidden", describeForbidden(context, said), cause);
    case status === 404:
      return new KubeError("NotFound", `${what}: not found (${said})`, cause);
    case status === 409:
      return new KubeError("Conflict", `${what}: conflict: re-read and retry (${said})`, {
        ...cause,
        retryable: true,
      });
    case status === 410:
      return new KubeError(
        "Gone",
        `${what}: gone: the resourceVersion expired, list again (${said})`,
        {
          ...cause,
          retryable: true,
        },
      );
    case status === 429: {
      const retryAfterSeconds =
        parseRetryAfter(headerOf(err.headers, "retry-after")) ?? body.retryAfterSeconds;
      return new KubeError(
        "TooManyRequests",
        `${what}: too many requests${retryAfterSeconds === undefined ? "" : `, retry after ${retryAfterSeconds}s`} (${said})`,
        {
          ...cause,
          retryable: true,
          ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
        },
      );
    }
    case status === 400 || status === 422:
      return new KubeError("Invalid", `${what}: invalid (${said})`, cause);
    case status >= 500: {
      const retryAfterSeconds = parseRetryAfter(headerOf(err.headers, "retry-after"));
      return new KubeError("ServerError", `${what}: server error ${status} (${said})`, {
        ...cause,
        retryable: true,
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      });
    }
    default:
      return new KubeError("Unknown", `${what}: unexpected HTTP ${status} (${said})`, cause);
  }
}

/** `forbidden: rrfleet needs "list" on "nodes" (cluster-scoped) — grant it in the ClusterRole`. */
function describeForbidden(context: KubeRequestContext, said: string): string {
  const scope =
    context.namespace === undefined
      ? "(cluster-scoped) — grant it in the ClusterRole"
      : `in namespace "${context.namespace}" — grant it in a Role there`;
  return `forbidden: rrfleet needs "${context.verb}" on "${context.resource}" ${scope} (${said})`;
}

function describeRequest(context: KubeRequestContext): string {
  const name = context.name === undefined ? "" : ` "${context.name}"`;
  const namespace = context.namespace === undefined ? "" : ` in namespace "${context.namespace}"`;
  return `${context.verb} ${context.resource}${name}${namespace}`;
}

interface StatusBody {
  readonly message?: string;
  readonly retryAfterSeconds?: number;
}

/** client-node 2.x passes the raw response text as `body` for unexpected statuses. */
function parseBody(body: unknown): StatusBody {
  let value = body;
  if (typeof body === "string") {
    try {
      value = JSON.parse(body) as unknown;
    } catch (err: unknown) {
      // Not JSON (a proxy's HTML page, say): the text itself is the message.
      if (!(err instanceof SyntaxError)) throw err;
      return body.trim() === "" ? {} : { message: body.trim() };
    }
  }
  if (!isRecord(value)) return {};
  const message = value["message"];
  const details = value["details"];
  const retry = isRecord(details) ? details["retryAfterSeconds"] : undefined;
  return {
    ...(typeof message === "string" && message !== "" ? { message } : {}),
    ...(typeof retry === "number" && retry > 0 ? { retryAfterSeconds: retry } : {}),
  };
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (!isRecord(headers)) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && typeof value === "string") return value;
  }
  return undefined;
}

/** Retry-After as delta-seconds; an HTTP-date is not used by kube-apiserver and is ignored. */
function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number.parseInt(value, 10);
}

function findNetworkCause(err: unknown): { detail: string; retryable: boolean } | undefined {
  const seen = new Set<unknown>();
  for (let current: unknown = err; isRecord(current) && !seen.has(current);) {
    seen.add(current);
    const code = current["code"];
    const name = current["name"];
    if (typeof code === "string" && NETWORK_ERROR_CODES.has(code)) {
      return { detail: `${code}: ${firstLine(messageOf(current))}`, retryable: true };
    }
    if (typeof code === "string" && TLS_ERROR_CODE.test(code)) {
      return {
        detail: `TLS ${code}: ${firstLine(messageOf(current))}; check the kubeconfig's certificate-authority and server`,
        retryable: false,
      };
    }
    if (name === "TimeoutError" || name === "AbortError") {
      return { detail: `timed out: ${firstLine(messageOf(current))}`, retryable: true };
    }
    current = current["cause"];
  }
  // undici reports every connection failure as `TypeError: fetch failed`, sometimes without a cause.
  if (err instanceof TypeError && err.message === "fetch failed") {
    return { detail: "fetch failed", retryable: true };
  }
  return undefined;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (isRecord(err) && typeof err["message"] === "string") return err["message"];
  return String(err);
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? "";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
