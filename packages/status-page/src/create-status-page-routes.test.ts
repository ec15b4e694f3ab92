import { createMemoryFleetState, type FleetState } from "@rrfleet/fleet-state";
import { createManualClock } from "@rrfleet/fleet-state/testing";
import {
  createMetricsRegistry,
  startTelemetryServer,
  type TelemetryServer,
} from "@rrfleet/telemetry";
import { DEFAULT_POLICY } from "@rrfleet/topology-core";
import { makeCluster, makeNodes } from "@rrfleet/topology-core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ClusterView } from "./build-cluster-view.js";
import type { FleetView } from "./build-fleet-view.js";
import { createStatusPageRoutes, type StatusPageSource } from "./create-status-page-routes.js";

const NOW = Date.parse("2026-11-28T00:00:00Z");

describe("createStatusPageRoutes", () => {
  let server: TelemetryServer;
  let state: FleetState;
  let failures: string[];
  let broken: boolean;

  beforeEach(async () => {
    state = createMemoryFleetState({ clock: createManualClock(NOW) });
    failures = [];
    broken = false;
    const source: StatusPageSource = {
      clusters: () => [
        { name: "c1", policy: DEFAULT_POLICY },
        { name: "c/2", policy: DEFAULT_POLICY },
      ],
      readStatuses: () =>
        broken ? Promise.reject(new Error("redis: connection refused")) : state.readStatuses(),
      readSnapshot: (cluster) => state.readSnapshot(cluster),
    };
    server = await startTelemetryServer({
      port: 0,
      registry: createMetricsRegistry(),
      liveness: () => ({ ok: true, problems: [] }),
      readiness: () => ({ ok: true, problems: [] }),
      routes: createStatusPageRoutes({
        source,
        now: () => NOW,
        onError: (err, path) => failures.push(`${path}: ${String(err)}`),
      }),
    });
  });
  afterEach(async () => {
    await server.close();
  });

  it("serves the page and its scripts from this machine, under a strict content policy", async () => {
    const page = await fetch(`${server.url}/`);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts).toEqual([
      "assets/layout-base.js",
      "assets/cose-base.js",
      "assets/cytoscape.min.js",
      "assets/cytoscape-fcose.js",
      "assets/status-page.js",
    ]);
    expect(html).not.toMatch(/https?:\/\//);
    for (const script of scripts) {
      const response = await fetch(`${server.url}/${script ?? ""}`);
      expect([script, response.status, response.headers.get("content-type")]).toEqual([
        script,
        200,
        "text/javascript; charset=utf-8",
      ]);
      expect((await response.text()).length).toBeGreaterThan(1000);
    }
    expect((await fetch(`${server.url}/assets/status-page.css`)).status).toBe(200);
    expect((await fetch(`${server.url}/assets/../package.json`)).status).toBe(404);
    expect((await fetch(`${server.url}/assets/nope.js`)).status).toBe(404);
  });

  it("answers the fleet table and each cluster's view as JSON", async () => {
    await state.publishSnapshot("c1", makeCluster(makeNodes(30, ["a", "b"])), {
      watcher: "w",
      observedAt: NOW,
    });
    await state.writeStatus("c1", {
      phase: "Progressing",
      reason: "PrepareReflectors",
      message: "",
      updatedAt: NOW - 2_000,
    });
    const fleet = (await (await fetch(`${server.url}/api/fleet`)).json()) as FleetView;
    expect(fleet.clusters.map((c) => [c.name, c.phase])).toEqual([
      ["c/2", "Unknown"],
      ["c1", "Progressing"],
    ]);
    const response = await fetch(`${server.url}/api/clusters/c1`);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const view = (await response.json()) as ClusterView;
    expect(view).toMatchObject({ name: "c1", counts: { nodes: 30, zones: 2, reflectors: 0 } });
    expect(view.plan.nextStep?.reason).toBe("PrepareReflectors");

    const noSnapshot = await fetch(`${server.url}/api/clusters/${encodeURIComponent("c/2")}`);
    expect(noSnapshot.status).toBe(404);
    expect(await noSnapshot.json()).toEqual({
      error: 'cluster "c/2" has no snapshot yet (its watch is starting)',
    });
    expect((await fetch(`${server.url}/api/clusters/unknown`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/clusters/%E0%A4%A`)).status).toBe(400);
    expect((await fetch(`${server.url}/api/other`)).status).toBe(404);
  });

  it("refuses every method but GET and HEAD, and changes nothing", async () => {
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      for (const path of ["/", "/api/fleet", "/api/clusters/c1"]) {
        const response = await fetch(`${server.url}${path}`, { method, body: "{}" });
        expect([method, path, response.status]).toEqual([method, path, 405]);
      }
    }
    expect(await state.readStatuses()).toEqual({});
  });

  it("answers 503 and reports the failure when the state cannot be read", async () => {
    broken = true;
    const response = await fetch(`${server.url}/api/fleet`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: "redis: connection refused" });
    expect(failures).toEqual(["/api/fleet: Error: redis: connection refused"]);
  });
});
