import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/** A probe's answer: healthy or not, with one line per problem for the person reading it. */
export interface ProbeResult {
  readonly ok: boolean;
  readonly problems: readonly string[];
}

/** Options of {@link startTelemetryServer}. */
export interface TelemetryServerOptions {
  /** Default `127.0.0.1`; `0.0.0.0` in a pod. */
  readonly host?: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly registry: Registry;
  /** `/healthz`: is the process alive and not wedged (restart it when false). */
  readonly liveness: () => ProbeResult;
  /** `/readyz`: is it doing its job (caches synced, holding what it should). */
  readonly readiness: () => ProbeResult;
  /**
   * Extra read-only routes (a status page) served next to the probes. They see GET and HEAD
   * requests only: the server answers every other method 405 before any route runs.
   */
  readonly routes?: readonly TelemetryRoute[];
}

/** A GET request as a {@link TelemetryRoute} sees it. */
export interface RouteRequest {
  /** The URL path, e.g. `/api/clusters/prod-eu-1` (percent-encoding kept). */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
}

/** What a route answers; a HEAD request gets the same status and headers without the body. */
export interface RouteResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array;
}

/**
 * An extra read-only route. The first matching route answers; `/metrics`, `/healthz` and
 * `/readyz` always win.
 */
export interface TelemetryRoute {
  /** Matched exactly, or as a prefix when `prefix` is true (`/api/` serves `/api/anything`). */
  readonly path: string;
  readonly prefix?: boolean;
  handle(request: RouteRequest): Promise<RouteResponse> | RouteResponse;
}

/** A running telemetry server. */
export interface TelemetryServer {
  /** `http://host:port`. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections and closes idle ones. */
  close(): Promise<void>;
}

/**
 * Serves `/metrics` (Prometheus text format), `/healthz` and `/readyz` (200 `ok`, or 503 with one
 * problem per line), plus the read-only `routes`. Anything but GET and HEAD is answered 405.
 * Resolves once listening; rejects when the address is taken.
 */
export async function startTelemetryServer(
  options: TelemetryServerOptions,
): Promise<TelemetryServer> {
  const server = createServer((request, response) => {
    handle(request, response, options).catch((err: unknown) => {
      response.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
      response.end(`${err instanceof Error ? err.message : String(err)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => {
          if (err === undefined) resolve();
          else reject(err);
        });
        server.closeIdleConnections();
      }),
  };
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  options: TelemetryServerOptions,
): Promise<void> {
  const url = new URL(request.url ?? "/", "http://localhost");
  const path = url.pathname;
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.writeHead(405, { allow: "GET, HEAD" }).end();
    return;
  }
  switch (path) {
    case "/metrics": {
      const body = await options.registry.metrics();
      response.writeHead(200, { "content-type": options.registry.contentType }).end(body);
      return;
    }
    case "/healthz":
      writeProbe(response, options.liveness());
      return;
    case "/readyz":
      writeProbe(response, options.readiness());
      return;
    default: {
      const route = options.routes?.find((r) =>
        r.prefix === true ? path.startsWith(r.path) : path === r.path,
      );
      if (route !== undefined) {
        const answer = await route.handle({
          path,
          query: url.searchParams,
          headers: request.headers,
        });
        response.writeHead(answer.status, answer.headers);
        response.end(request.method === "HEAD" ? undefined : answer.body);
        return;
      }
      response.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      response.end("not found: try /metrics, /healthz or /readyz\n");
    }
  }
}

function writeProbe(response: ServerResponse, result: ProbeResult): void {
  response.writeHead(result.ok ? 200 : 503, { "content-type": "text/plain; charset=utf-8" });
  response.end(result.ok ? "ok\n" : `${result.problems.join("\n")}\n`);
}
