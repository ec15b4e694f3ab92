import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { createWatchTransport, type WatchEvent } from "./create-watch-transport.js";

/** A plain-HTTP stand-in for the API server; the test decides every response. */
async function startServer(handle: (request: IncomingMessage, response: ServerResponse) => void) {
  const requests: { url: URL; authorization: string | undefined }[] = [];
  const server: Server = createServer((request, response) => {
    requests.push({
      url: new URL(request.url ?? "/", "http://localhost"),
      authorization: request.headers.authorization,
    });
    handle(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const kubeConfig = new KubeConfig();
  // client-node refuses plain HTTP unless TLS verification is off: fine against a loopback fake.
  kubeConfig.loadFromOptions({
    clusters: [{ name: "fake", server: `http://127.0.0.1:${port}/prefix`, skipTLSVerify: true }],
    users: [{ name: "u", token: "t0ken" }],
    contexts: [{ name: "fake", cluster: "fake", user: "u" }],
    currentContext: "fake",
  });
  servers.push(server);
  return { kubeConfig, requests, server };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const WATCH = {
  path: "/api/v1/nodes",
  resource: "nodes",
  resourceVersion: "20",
  timeoutSeconds: 450,
} as const;

function line(type: string, object: unknown): string {
  return `${JSON.stringify({ type, object })}\n`;
}

describe("createWatchTransport", () => {
  it("lists a page with limit, continue and fieldSelector, authenticated", async () => {
    const { kubeConfig, requests } = await startServer((_request, response) => {
      response.writeHead(200, { "Content-Type": "application/json" });
      response.end(
        JSON.stringify({
          kind: "BGPConfigurationList",
          metadata: { resourceVersion: "77", continue: "next-page" },
          items: [{ metadata: { name: "default" } }],
        }),
      );
    });
    const page = await createWatchTransport(kubeConfig).listPage(
      {
        path: "/apis/crd.projectcalico.org/v1/bgpconfigurations",
        resource: "bgpconfigurations.crd.projectcalico.org",
        fieldSelector: "metadata.name=default",
        limit: 500,
        continueToken: "abc",
      },
      new AbortController().signal,
    );
    expect(page).toEqual({
      items: [{ metadata: { name: "default" } }],
      resourceVersion: "77",
      continueToken: "next-page",
    });
    const [request] = requests;
    expect(request?.url.pathname).toBe("/prefix/apis/crd.projectcalico.org/v1/bgpconfigurations");
    expect(Object.fromEntries(request?.url.searchParams ?? [])).toEqual({
      limit: "500",
      continue: "abc",
      fieldSelector: "metadata.name=default",
    });
    expect(request?.authorization).toBe("Bearer t0ken");
  });

  it("streams events in order, however the bytes are split, and resolves when the server ends", async () => {
    const { kubeConfig, requests } = await startServer((_request, response) => {
      response.writeHead(200, { "Content-Type": "application/json" });
      const body =
        line("ADDED", { metadata: { name: "n1", resourceVersion: "21" } }) +
        line("MODIFIED", { metadata: { name: "n1", resourceVersion: "22" } }) +
        line("BOOKMARK", { metadata: { resourceVersion: "30" } });
      // Split mid-line, as TCP may.
      response.write(body.slice(0, 17));
      setTimeout(() => {
        response.write(body.slice(17, 90));
        setTimeout(() => response.end(body.slice(90)), 5);
      }, 5);
    });
    const events: WatchEvent[] = [];
    await createWatchTransport(kubeConfig).watch(
      WATCH,
      (event) => events.push(event),
      new AbortController().signal,
    );
    expect(events.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "BOOKMARK"]);
    expect(events[1]?.object).toEqual({ metadata: { name: "n1", resourceVersion: "22" } });
    expect(Object.fromEntries(requests[0]?.url.searchParams ?? [])).toEqual({
      watch: "true",
      allowWatchBookmarks: "true",
      resourceVersion: "20",
      timeoutSeconds: "450",
    });
  });

  const failures = [
    {
      name: "an ERROR event carrying a 410 Status",
      respond: (response: ServerResponse) => {
        response.writeHead(200);
        response.write(line("ADDED", { metadata: { name: "n1", resourceVersion: "21" } }));
        response.end(
          line("ERROR", {
            kind: "Status",
            status: "Failure",
            message: "too old resource version: 20 (279)",
            reason: "Expired",
            code: 410,
          }),
        );
      },
      want: {
        code: "Gone",
        message: expect.stringContaining("too old resource version") as unknown,
      },
    },
    {
      name: "HTTP 410 on connect",
      respond: (response: ServerResponse) => {
        response.writeHead(410, { "Content-Type": "application/json" });
        response.end(JSON.stringify({ kind: "Status", code: 410, message: "gone" }));
      },
      want: { code: "Gone" },
    },
    {
      name: "429 while storage initializes, with Retry-After",
      respond: (response: ServerResponse) => {
        response.writeHead(429, { "Retry-After": "1", "Content-Type": "application/json" });
        response.end(
          JSON.stringify({ kind: "Status", code: 429, message: "storage is (re)initializing" }),
        );
      },
      want: { code: "TooManyRequests", retryable: true, retryAfterSeconds: 1 },
    },
    {
      name: "a connection cut in the middle of an event",
      respond: (response: ServerResponse) => {
        response.writeHead(200);
        response.write('{"type":"ADDED","object":{"metad');
        setTimeout(() => response.socket?.destroy(), 5);
      },
      want: { code: "Unavailable", retryable: true },
    },
    {
      name: "a line that is not a watch event",
      respond: (response: ServerResponse) => {
        response.writeHead(200);
        response.end("<html>proxy error</html>\n");
      },
      want: { code: "Invalid" },
    },
  ];
  it.each(failures)("rejects with a KubeError on $name", async ({ respond, want }) => {
    const { kubeConfig } = await startServer((_request, response) => {
      respond(response);
    });
    const events: WatchEvent[] = [];
    const result = createWatchTransport(kubeConfig).watch(
      WATCH,
      (event) => events.push(event),
      new AbortController().signal,
    );
    await expect(result).rejects.toMatchObject(want);
  });

  it("closes the connection when the signal aborts, rejecting with its reason", async () => {
    let closed: () => void = () => undefined;
    const serverSawClose = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const { kubeConfig } = await startServer((request, response) => {
      response.writeHead(200);
      response.write(line("BOOKMARK", { metadata: { resourceVersion: "21" } }));
      request.socket.on("close", closed);
    });
    const controller = new AbortController();
    const reason = new Error("quiet for too long");
    const watching = createWatchTransport(kubeConfig).watch(
      WATCH,
      () => {
        controller.abort(reason);
      },
      controller.signal,
    );
    await expect(watching).rejects.toMatchObject({
      message: expect.stringContaining("quiet for too long") as unknown,
    });
    await serverSawClose;
  });

  it("fails a LIST whose connection stays silent past the idle timeout", async () => {
    const { kubeConfig } = await startServer(() => {
      // Never answers: a half-open connection.
    });
    const listing = createWatchTransport(kubeConfig, { listIdleTimeoutMs: 50 }).listPage(
      { path: "/api/v1/nodes", resource: "nodes", limit: 500 },
      new AbortController().signal,
    );
    await expect(listing).rejects.toMatchObject({ code: "Unavailable", retryable: true });
  });
});
