import * as http from "node:http";
import * as https from "node:https";
import { ApiException, type KubeConfig } from "@kubernetes/client-node";
import { KubeError, toKubeError } from "./kube-error.js";
import { isRecord } from "./is-record.js";

/** One LIST page of a cluster-scoped collection. */
export interface ListPageRequest {
  /** Collection path, e.g. `/api/v1/nodes`. */
  readonly path: string;
  /** For error messages and RBAC hints: `nodes`, `bgppeers.crd.projectcalico.org`. */
  readonly resource: string;
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
  readonly limit: number;
  readonly continueToken?: string;
}

/** What one LIST page returned: raw items (JSON as sent) and the list's metadata. */
export interface ListPage {
  readonly items: readonly unknown[];
  /** The collection's resourceVersion, where a watch resumes. */
  readonly resourceVersion: string;
  readonly continueToken?: string;
}

/** One watch request, resumed after `resourceVersion`. */
export interface WatchRequest {
  readonly path: string;
  readonly resource: string;
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
  readonly resourceVersion: string;
  /** Server-side timeout: the API server ends the stream cleanly after this many seconds. */
  readonly timeoutSeconds: number;
}

/** A watch event as the API server streams it; `ERROR` events never get here (they reject). */
export interface WatchEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";
  readonly object: unknown;
}

/** The two requests a watch loop makes: a port, so the loop can be tested with a fake. */
export interface WatchTransport {
  /**
   * GETs one page. Rejects with a {@link KubeError} (`Gone` when a continue token expired;
   * `Unavailable` when the connection is idle for the transport's idle timeout).
   */
  listPage(request: ListPageRequest, signal: AbortSignal): Promise<ListPage>;
  /**
   * Streams events to `onEvent` (synchronously, in order) until the server ends the stream
   * (resolves) or it fails (rejects with a {@link KubeError}: `Gone` for 410, whether as the
   * HTTP status or as an `ERROR` event carrying a Status with code 410). Aborting `signal`
   * closes the connection and rejects with the signal's reason.
   */
  watch(
    request: WatchRequest,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

/** Options of {@link createWatchTransport}. */
export interface WatchTransportOptions {
  /** A LIST whose connection stays silent this long fails (`Unavailable`). Default 90,000 ms. */
  readonly listIdleTimeoutMs?: number;
}

/** Bytes of an error response kept for its message; a Status is far smaller. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const EVENT_TYPES = new Set(["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]);

/**
 * Builds a {@link WatchTransport} on `kubeConfig`'s current context with plain `node:http(s)`
 * requests: client-node's `applyToHTTPSOptions` supplies the CA, client certificates, token or
 * exec credentials and proxy agent, and the response stays ours, so a 429's `Retry-After`
 * header and a non-200 body reach {@link toKubeError}, and the stream is parsed line by line
 * without keeping more than one event. Throws nothing itself; requests reject with
 * {@link KubeError}s (`Invalid` when the kubeconfig selects no cluster).
 */
export function createWatchTransport(
  kubeConfig: KubeConfig,
  options: WatchTransportOptions = {},
): WatchTransport {
  const listIdleTimeoutMs = options.listIdleTimeoutMs ?? 90_000;
  return {
    async listPage(request, signal) {
      const url = buildUrl(kubeConfig, request.path, {
        limit: String(request.limit),
        ...(request.fieldSelector === undefined ? {} : { fieldSelector: request.fieldSelector }),
        ...(request.labelSelector === undefined ? {} : { labelSelector: request.labelSelector }),
        ...(request.continueToken === undefined ? {} : { continue: request.continueToken }),
      });
      const context = { verb: "list", resource: request.resource } as const;
      try {
        const response = await send(kubeConfig, url, signal, listIdleTimeoutMs);
        if (response.statusCode !== 200) throw await readStatusError(response);
        const body = await readBody(response, Number.POSITIVE_INFINITY);
        return parseListPage(body, request.resource);
      } catch (err: unknown) {
        throw toKubeError(signal.aborted ? signal.reason : err, context);
      }
    },

    async watch(request, onEvent, signal) {
      const url = buildUrl(kubeConfig, request.path, {
        watch: "true",
        allowWatchBookmarks: "true",
        resourceVersion: request.resourceVersion,
        timeoutSeconds: String(request.timeoutSeconds),
        ...(request.fieldSelector === undefined ? {} : { fieldSelector: request.fieldSelector }),
        ...(request.labelSelector === undefined ? {} : { labelSelector: request.labelSelector }),
      });
      const context = { verb: "watch", resource: request.resource } as const;
      try {
        const response = await send(kubeConfig, url, signal, undefined);
        if (response.statusCode !== 200) throw await readStatusError(response);
        await streamEvents(response, onEvent);
      } catch (err: unknown) {
        throw toKubeError(signal.aborted ? signal.reason : err, context);
      }
    },
  };
}

function buildUrl(kubeConfig: KubeConfig, path: string, query: Record<string, string>): URL {
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) {
    throw new KubeError("Invalid", "the kubeconfig's current context selects no cluster");
  }
  // Like client-node: the server URL may carry a path prefix (a proxying gateway's).
  const url = new URL(cluster.server.replace(/\/+$/, "") + path);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  return url;
}

/** Sends a GET; resolves with the response head. `idleTimeoutMs` bounds socket silence. */
async function send(
  kubeConfig: KubeConfig,
  url: URL,
  signal: AbortSignal,
  idleTimeoutMs: number | undefined,
): Promise<http.IncomingMessage> {
  signal.throwIfAborted();
  const requestOptions: https.RequestOptions = {
    method: "GET",
    headers: { Accept: "application/json" },
    signal,
  };
  await kubeConfig.applyToHTTPSOptions(requestOptions);
  signal.throwIfAborted();
  const client = url.protocol === "http:" ? http : https;
  return new Promise((resolve, reject) => {
    const request = client.request(url, requestOptions, resolve);
    request.on("error", reject);
    if (idleTimeoutMs !== undefined) {
      request.setTimeout(idleTimeoutMs, () => {
        request.destroy(
          Object.assign(new Error(`no bytes from the API server for ${idleTimeoutMs} ms`), {
            code: "ETIMEDOUT",
          }),
        );
      });
    }
    request.end();
  });
}

async function readBody(response: http.IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    const buffer = chunk as Buffer;
    if (size < maxBytes) chunks.push(buffer);
    size += buffer.length;
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A non-200 response as the ApiException client-node would throw, for {@link toKubeError}. */
async function readStatusError(response: http.IncomingMessage): Promise<ApiException<string>> {
  const status = response.statusCode ?? 0;
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(response.headers)) {
    if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(", ") : value;
  }
  const body = await readBody(response, MAX_ERROR_BODY_BYTES);
  return new ApiException(status, `HTTP ${status}`, body, headers);
}

function parseListPage(body: string, resource: string): ListPage {
  let value: unknown;
  try {
    value = JSON.parse(body) as unknown;
  } catch (err: unknown) {
    throw new KubeError("Invalid", `list ${resource}: the response is not JSON`, { cause: err });
  }
  const items = isRecord(value) ? value["items"] : undefined;
  const metadata = isRecord(value) ? value["metadata"] : undefined;
  const resourceVersion = isRecord(metadata) ? metadata["resourceVersion"] : undefined;
  const token = isRecord(metadata) ? metadata["continue"] : undefined;
  if (!Array.isArray(items) || typeof resourceVersion !== "string" || resourceVersion === "") {
    throw new KubeError(
      "Invalid",
      `list ${resource}: the response has no items array or no metadata.resourceVersion`,
    );
  }
  return {
    items,
    resourceVersion,
    ...(typeof token === "string" && token !== "" ? { continueToken: token } : {}),
  };
}

/**
 * Reads newline-delimited watch events. Resolves when the server ends the stream cleanly;
 * rejects on a broken connection, a line that is not a watch event, a stream cut in the middle
 * of an event, and an `ERROR` event (as the Status it carries).
 */
function streamEvents(
  response: http.IncomingMessage,
  onEvent: (event: WatchEvent) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      response.destroy();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => {
      buffered += chunk;
      let newline = buffered.indexOf("\n");
      while (newline !== -1 && !settled) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim() !== "") {
          try {
            onEvent(parseEvent(line));
          } catch (err: unknown) {
            fail(err);
          }
        }
        newline = buffered.indexOf("\n");
      }
    });
    response.on("error", fail);
    response.on("end", () => {
      if (settled) return;
      if (buffered.trim() !== "") {
        fail(
          new KubeError("Unavailable", "the stream ended in the middle of an event", {
            retryable: true,
          }),
        );
        return;
      }
      settled = true;
      resolve();
    });
    response.on("close", () => {
      // `close` without `end`: the connection went away mid-stream.
      if (!response.complete) {
        fail(
          Object.assign(new Error("the watch connection closed mid-stream"), {
            code: "ECONNRESET",
          }),
        );
      }
    });
  });
}

function parseEvent(line: string): WatchEvent {
  let value: unknown;
  try {
    value = JSON.parse(line) as unknown;
  } catch (err: unknown) {
    throw new KubeError("Invalid", "a watch event is not JSON", { cause: err });
  }
  const type = isRecord(value) ? value["type"] : undefined;
  const object = isRecord(value) ? value["object"] : undefined;
  if (type === "ERROR") {
    const code = isRecord(object) ? object["code"] : undefined;
    // The ApiException client-node would build for this status, so 410 maps to `Gone`.
    throw new ApiException(
      typeof code === "number" ? code : 500,
      "watch ERROR event",
      JSON.stringify(object ?? null),
      {},
    );
  }
  if (typeof type !== "string" || !EVENT_TYPES.has(type)) {
    throw new KubeError("Invalid", `a watch event has an unknown type ${JSON.stringify(type)}`);
  }
  return { type: type as WatchEvent["type"], object };
}
