import { Counter } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { createMetricsRegistry } from "./create-metrics-registry.js";
import {
  startTelemetryServer,
  type ProbeResult,
  type TelemetryServer,
} from "./start-telemetry-server.js";

describe("startTelemetryServer", () => {
  let server: TelemetryServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(readiness: () => ProbeResult): Promise<TelemetryServer> {
    const registry = createMetricsRegistry();
    new Counter({ name: "rrfleet_test_things_total", help: "things", registers: [registry] }).inc(
      3,
    );
    server = await startTelemetryServer({
      port: 0,
      registry,
      liveness: () => ({ ok: true, problems: [] }),
      readiness,
    });
    return server;
  }

  it("serves the private registry's metrics, process metrics included", async () => {
    const { url } = await start(() => ({ ok: true, problems: [] }));
    const response = await fetch(`${url}/metrics`);
    const body = await response.text();
    expect(response.status).toBe(200);
    expect(body).toContain("rrfleet_test_things_total 3");
    expect(body).toContain("process_resident_memory_bytes");
  });

  it("answers /readyz 503 with one problem per line until ready, then 200", async () => {
    let ready: ProbeResult = {
      ok: false,
      problems: ["cluster a: nodes not synced", "cluster b: bgppeers not synced"],
    };
    const { url } = await start(() => ready);
    const before = await fetch(`${url}/readyz`);
    expect(before.status).toBe(503);
    expect(await before.text()).toBe(
      "cluster a: nodes not synced\ncluster b: bgppeers not synced\n",
    );
    ready = { ok: true, problems: [] };
    const after = await fetch(`${url}/readyz`);
    expect([after.status, await after.text()]).toEqual([200, "ok\n"]);
  });

  it("answers /healthz and 404s anything else", async () => {
    const { url } = await start(() => ({ ok: true, problems: [] }));
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect((await fetch(`${url}/metrics`, { method: "POST" })).status).toBe(405);
  });

  it("serves extra routes for GET and HEAD only, exact or by prefix, after the probes", async () => {
    const seen: string[] = [];
    server = await startTelemetryServer({
      port: 0,
      registry: createMetricsRegistry(),
      liveness: () => ({ ok: true, problems: [] }),
      readiness: () => ({ ok: true, problems: [] }),
      routes: [
        {
          path: "/",
          handle: () => ({ status: 200, headers: { "content-type": "text/html" }, body: "<p>hi" }),
        },
        {
          path: "/api/",
          prefix: true,
          handle: (request) => {
            seen.push(`${request.path}?${request.query.toString()}`);
            return { status: 200, headers: { "content-type": "application/json" }, body: "{}" };
          },
        },
        {
          path: "/metrics",
          handle: () => ({ status: 200, headers: {}, body: "shadowed" }),
        },
      ],
    });
    const { url } = server;
    const page = await fetch(`${url}/`);
    expect([page.status, await page.text()]).toEqual([200, "<p>hi"]);
    const api = await fetch(`${url}/api/clusters/a%2Fb?x=1`);
    expect([api.status, await api.text()]).toEqual([200, "{}"]);
    const head = await fetch(`${url}/api/fleet`, { method: "HEAD" });
    expect([head.status, head.headers.get("content-type"), await head.text()]).toEqual([
      200,
      "application/json",
      "",
    ]);
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      const refused = await fetch(`${url}/api/fleet`, { method });
      expect([method, refused.status, refused.headers.get("allow")]).toEqual([
        method,
        405,
        "GET, HEAD",
      ]);
    }
    expect(seen).toEqual(["/api/clusters/a%2Fb?x=1", "/api/fleet?"]);
    expect(await (await fetch(`${url}/metrics`)).text()).not.toBe("shadowed");
    expect((await fetch(`${url}/other`)).status).toBe(404);
  });
});
