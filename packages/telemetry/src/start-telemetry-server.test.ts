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
});
