import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMemoryFleetState, systemClock } from "@rrfleet/fleet-state";
import { connectCluster, readClusterSnapshot } from "@rrfleet/kube";
import { readLiveCluster, runCli, type CliIo } from "@rrfleet/rrctl";
import { createStatusPageRoutes } from "@rrfleet/status-page";
import { createMetricsRegistry, startTelemetryServer } from "@rrfleet/telemetry";
import {
  DEFAULT_POLICY,
  isValidClusterId,
  planCluster,
  readPeerKeys,
  REFLECTOR_LABEL,
  type ClusterSnapshot,
  type NodeExplanation,
} from "@rrfleet/topology-core";
import { makeCluster, makeNodes, simulateSteps } from "@rrfleet/topology-core/testing";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createNodeFactory,
  describeExit,
  E2E_DIR,
  launchChromium,
  startFleetService,
  startRrctlRun,
  startTestCluster,
  startTestRedis,
  waitFor,
  waitForReady,
  writeFleetFile,
  type NodeFactory,
  type RrctlRunProcess,
  type TestCluster,
} from "./harness/index.js";

const ZONES = ["zone-a", "zone-b", "zone-c"];
const REPORTS = join(E2E_DIR, "reports");

/** What the page must show for a cluster, counted independently from the live objects. */
interface Expected {
  readonly nodes: number;
  readonly reflectors: number;
  /** "zone reflector,reflector" → nodes, for the non-reflectors. */
  readonly groups: ReadonlyMap<string, number>;
}

/**
 * Counts a converged cluster as a person would from `kubectl get nodes --show-labels`: reflectors
 * are the nodes with a valid cluster ID; every other node belongs to the group of its zone and the
 * reflectors its `rrfleet.io/peer-<key>` labels name.
 */
function countFromLabels(snapshot: ClusterSnapshot): Expected {
  const byKey = new Map<string, string>();
  for (const node of snapshot.nodes) {
    const key = node.labels[REFLECTOR_LABEL];
    if (key !== undefined) byKey.set(key, node.name);
  }
  const groups = new Map<string, number>();
  let reflectors = 0;
  for (const node of snapshot.nodes) {
    if (isValidClusterId(node.routeReflectorClusterId)) {
      reflectors++;
      continue;
    }
    const peers = readPeerKeys(node.labels)
      .map((k) => byKey.get(k) ?? `?${k}`)
      .sort();
    const id = `${node.labels["topology.kubernetes.io/zone"] ?? "(none)"} ${peers.join(",")}`;
    groups.set(id, (groups.get(id) ?? 0) + 1);
  }
  return { nodes: snapshot.nodes.length, reflectors, groups };
}

/** What the page shows now: its counts, its group table and what Cytoscape has drawn. */
async function readPage(page: Page): Promise<Expected & { drawnGroups: number; clusters: number }> {
  const shown = await page.evaluate(() => {
    const count = (key: string): number =>
      Number(document.querySelector(`[data-count="${key}"]`)?.textContent ?? "NaN");
    // Entries, not a Map: what page.evaluate returns must be JSON.
    const groups: [string, number][] = [];
    for (const row of document.querySelectorAll("#groups tbody tr")) {
      const cells = [...row.querySelectorAll("td")].map((td) => td.textContent);
      const peers = cells[3] === "no reflector" ? "" : (cells[3] ?? "").split(", ").join(",");
      groups.push([`${cells[0] ?? ""} ${peers}`, Number(cells[1])]);
    }
    const status = (
      window as unknown as { rrfleetStatus?: { cy?: { nodes(s: string): { length: number } } } }
    ).rrfleetStatus;
    return {
      nodes: count("nodes"),
      reflectors: count("reflectors"),
      groups,
      drawnGroups: status?.cy?.nodes('[kind = "group"]').length ?? -1,
      clusters: Number(
        document.querySelector("[data-testid=fleet-summary]")?.getAttribute("data-clusters"),
      ),
    };
  });
  return { ...shown, groups: new Map(shown.groups) };
}

/** Polls the page until it shows `want` (the page itself polls the API every few seconds). */
async function waitForPageToShow(page: Page, want: Expected, description: string): Promise<void> {
  let last = "";
  await waitFor(
    async () => {
      const shown = await readPage(page);
      last = JSON.stringify({ ...shown, groups: [...shown.groups] });
      const same =
        shown.nodes === want.nodes &&
        shown.reflectors === want.reflectors &&
        shown.drawnGroups === want.groups.size &&
        shown.groups.size === want.groups.size &&
        [...want.groups].every(([id, size]) => shown.groups.get(id) === size);
      return same ? true : undefined;
    },
    { description: `${description} (page shows ${last})`, timeoutMs: 60_000, intervalMs: 500 },
  );
}

describe("the status page of rrctl run, in Chromium", () => {
  let cluster: TestCluster;
  let nodes: NodeFactory;
  let run: RrctlRunProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const consoleErrors: string[] = [];

  const readSnapshot = () =>
    readClusterSnapshot(
      connectCluster({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.name }),
    );
  /** Waits until the cluster has nothing left to do, and returns it. */
  const waitForConverged = (description: string): Promise<ClusterSnapshot> =>
    waitFor(
      async () => {
        const snapshot = await readSnapshot();
        const plan = planCluster(snapshot, DEFAULT_POLICY, new Date());
        return plan.steps.length === 0 && !snapshot.bgpConfiguration.nodeToNodeMeshEnabled
          ? snapshot
          : undefined;
      },
      {
        description,
        timeoutMs: 180_000,
        intervalMs: 500,
        abortIf: () => (run === undefined ? undefined : describeExit(run)),
      },
    );

  beforeAll(async () => {
    await mkdir(REPORTS, { recursive: true });
    cluster = await startTestCluster({ name: "status-page" });
    nodes = createNodeFactory(cluster.kubeConfig, {
      kubeletVersion: cluster.kubeApiserverVersion,
    });
    await nodes.createNodes(30, { zones: ZONES });
    // No calico-node here: the controller waits a short switchover delay instead of checking
    // sessions (the page draws sessions from the planner's model of Calico either way).
    run = await startRrctlRun({
      cluster,
      args: ["--session-check", "delay", "--switchover-delay-seconds", "0.3"],
    });
    await waitForReady(run);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("pageerror", (err) => consoleErrors.push(err.message));
  });

  afterAll(async () => {
    await browser?.close();
    await run?.stop();
    await cluster.stop();
  });

  it("loads without console errors and shows the converged cluster's counts", async () => {
    const converged = await waitForConverged("converged");
    await page.goto(`${run?.telemetryUrl ?? ""}/`);
    const want = countFromLabels(converged);
    await waitForPageToShow(page, want, "the converged cluster");
    const shown = await readPage(page);
    console.log(
      `e2e: status page: ${shown.clusters} cluster, ${shown.nodes} nodes, ${shown.reflectors} reflectors, ` +
        `${shown.groups.size} client groups (${[...shown.groups.values()].join("/")} nodes)`,
    );
    expect(shown.clusters).toBe(1);
    expect(want.reflectors).toBe(3);
    expect(await page.textContent("#fleet tbody")).toContain(cluster.name);
    await page.waitForFunction(
      () => document.querySelector("#fleet tbody td.phase-Converged") !== null,
      undefined,
      { timeout: 30_000 },
    );
    // The next step is drawn from the cluster's own poll: wait for it, do not read it once.
    await page.waitForFunction(
      () =>
        /Nothing to do/.test(document.querySelector("[data-testid=next-step]")?.textContent ?? ""),
      undefined,
      { timeout: 30_000 },
    );
    await page.screenshot({ path: join(REPORTS, "status-page.png"), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });

  it("follows the cluster: nodes added, a reflector deleted", async () => {
    const before = await readSnapshot();
    const rendersBefore = await page.evaluate(
      () => (window as unknown as { rrfleetStatus: { renders: number } }).rrfleetStatus.renders,
    );
    const reflector = before.nodes.find((n) => isValidClusterId(n.routeReflectorClusterId));
    await nodes.createNodes(6, { zones: ZONES, prefix: "late" });
    await nodes.deleteNode(reflector?.name ?? "");
    const after = await waitForConverged("converged again");
    expect(after.nodes).toHaveLength(35);
    const want = countFromLabels(after);
    await waitForPageToShow(page, want, "the changed cluster");
    // The same page, updated in place by its polling (not reloaded).
    expect(
      await page.evaluate(
        () => (window as unknown as { rrfleetStatus: { renders: number } }).rrfleetStatus.renders,
      ),
    ).toBeGreaterThan(rendersBefore);
    expect(await page.textContent("#reflectors tbody")).not.toContain(reflector?.name ?? "?");
    await page.screenshot({ path: join(REPORTS, "status-page-after-change.png"), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });

  it("answers GET only: every other method is refused and changes nothing", async () => {
    const url = run?.telemetryUrl ?? "";
    const readFleet = async () =>
      (
        (await (await fetch(`${url}/api/fleet`)).json()) as {
          clusters: { name: string; nodes?: number; reflectors?: number }[];
        }
      ).clusters.map((c) => [c.name, c.nodes, c.reflectors]);
    const before = await readFleet();
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      for (const path of [
        "/",
        "/api/fleet",
        `/api/clusters/${cluster.name}`,
        "/assets/status-page.js",
      ]) {
        const response = await fetch(`${url}${path}`, { method, body: "{}" });
        expect([method, path, response.status]).toEqual([method, path, 405]);
      }
    }
    await waitFor(
      async () => {
        const view = (await (await fetch(`${url}/api/clusters/${cluster.name}`)).json()) as {
          counts: { nodes: number };
        };
        return view.counts.nodes === 35 ? true : undefined;
      },
      { description: "the cluster view counts 35 nodes", timeoutMs: 30_000 },
    );
    expect(await readFleet()).toEqual(before);
  });

  it("is off with rrctl run --no-status-page (the metrics stay)", async () => {
    const quiet = await startRrctlRun({
      cluster,
      args: ["--no-status-page", "--dry-run"],
      logName: "rrctl-run-no-status-page.log",
    });
    try {
      await waitForReady(quiet);
      expect((await quiet.probe("/")).status).toBe(404);
      expect((await quiet.probe("/api/fleet")).status).toBe(404);
      expect((await quiet.probe("/metrics")).status).toBe(200);
      expect((await run?.probe("/"))?.status).toBe(200);
    } finally {
      await quiet.stop();
    }
  });

  it("rrctl explain reads the live cluster and agrees with its labels", async () => {
    const snapshot = await readSnapshot();
    const client = snapshot.nodes.find(
      (n) => !isValidClusterId(n.routeReflectorClusterId) && readPeerKeys(n.labels).length > 0,
    );
    const byKey = new Map(
      snapshot.nodes.flatMap((n) => {
        const key = n.labels[REFLECTOR_LABEL];
        return key === undefined ? [] : [[key, n.name] as const];
      }),
    );
    let stdout = "";
    let stderr = "";
    const io: CliIo = {
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
      readFile: (path) => readFile(path, "utf8"),
      readCluster: readLiveCluster,
      now: () => new Date(),
      runController: () => Promise.reject(new Error("explain must not start the controller")),
      openFleetState: () => Promise.reject(new Error("explain must not read a fleet state")),
      env: {},
    };
    const argv = ["explain", client?.name ?? "", "--kubeconfig", cluster.kubeconfigPath];
    const code = await runCli([...argv, "--context", cluster.name, "--output", "json"], io);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const explanation = JSON.parse(stdout) as NodeExplanation;
    const labelled = readPeerKeys(client?.labels ?? {}).map((k) => byKey.get(k));
    expect(explanation.selection.reason).toBe("ZoneTargetMet");
    expect(explanation.target.role).toBe("client");
    if (explanation.target.role === "client") {
      expect(explanation.target.peers.map((p) => p.reflector.node).sort()).toEqual(labelled.sort());
      expect(explanation.target.peers.every((p) => p.reason === "AlreadyPeered")).toBe(true);
    }
    expect(explanation.nextStep).toBeUndefined();
  });
});

describe("the applier's status page", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rrfleet-status-page-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("is on by default and off with STATUS_PAGE_ENABLED=false", async () => {
    const redis = await startTestRedis(dir);
    const fleetFile = await writeFleetFile(join(dir, "fleet.yaml"), []);
    try {
      for (const [enabled, wantStatus] of [
        [undefined, 200],
        ["false", 404],
      ] as const) {
        const applier = await startFleetService({
          kind: "applier",
          id: `applier-${enabled ?? "default"}`,
          dir,
          env: {
            REDIS_URL: redis.url,
            FLEET_FILE: fleetFile,
            ...(enabled === undefined ? {} : { STATUS_PAGE_ENABLED: enabled }),
          },
        });
        try {
          const page = await waitFor(
            async () => {
              const metrics = await fetch(`${applier.telemetryUrl}/metrics`).catch(() => undefined);
              if (metrics?.status !== 200) return undefined;
              return fetch(`${applier.telemetryUrl}/`);
            },
            { description: "the applier's telemetry server", abortIf: () => describeExit(applier) },
          );
          expect([enabled, page.status]).toEqual([enabled, wantStatus]);
          const fleet = await fetch(`${applier.telemetryUrl}/api/fleet`);
          expect(fleet.status).toBe(wantStatus);
          expect(
            (await fetch(`${applier.telemetryUrl}/api/fleet`, { method: "DELETE" })).status,
          ).toBe(405);
        } finally {
          await applier.stop();
        }
      }
    } finally {
      await redis.stop();
    }
  });
});

describe("a 5,000-node cluster on the status page", () => {
  it("is drawn as groups, not nodes (prints the render time)", async () => {
    const state = createMemoryFleetState({ clock: systemClock });
    const fresh = makeCluster(makeNodes(5000, ZONES));
    const converged =
      simulateSteps(fresh, planCluster(fresh, DEFAULT_POLICY, new Date()).steps).at(-1) ?? fresh;
    await state.publishSnapshot("big", converged, { watcher: "w", observedAt: Date.now() });
    await state.publishSnapshot("small", makeCluster(makeNodes(12, ZONES)), {
      watcher: "w",
      observedAt: Date.now(),
    });
    const server = await startTelemetryServer({
      port: 0,
      registry: createMetricsRegistry(),
      liveness: () => ({ ok: true, problems: [] }),
      readiness: () => ({ ok: true, problems: [] }),
      routes: createStatusPageRoutes({
        source: {
          clusters: () => [
            { name: "big", policy: DEFAULT_POLICY },
            { name: "small", policy: DEFAULT_POLICY },
          ],
          readStatuses: () => state.readStatuses(),
          readSnapshot: (c) => state.readSnapshot(c),
        },
        now: () => Date.now(),
      }),
    });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
      const errors: string[] = [];
      page.on("pageerror", (err) => errors.push(err.message));
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      // Main-thread CPU time (ThreadTime) says what the drawing costs whatever else the machine
      // is doing; wall time on a shared 2-core machine mostly measures the others.
      const cdp = await page.context().newCDPSession(page);
      await cdp.send("Performance.enable");
      const threadTime = async (): Promise<number> =>
        (await cdp.send("Performance.getMetrics")).metrics.find((m) => m.name === "ThreadTime")
          ?.value ?? NaN;
      const cpuBefore = await threadTime();
      const started = performance.now();
      await page.goto(`${server.url}/`);
      await page.waitForFunction(
        () =>
          ((window as unknown as { rrfleetStatus?: { renders: number } }).rrfleetStatus?.renders ??
            0) > 0,
        undefined,
        { timeout: 60_000 },
      );
      const loadMs = performance.now() - started;
      const cpuMs = ((await threadTime()) - cpuBefore) * 1000;
      const drawn = await page.evaluate(() => {
        const status = (
          window as unknown as {
            rrfleetStatus: { lastRenderMs: number; cy: { elements(): { length: number } } };
          }
        ).rrfleetStatus;
        return { elements: status.cy.elements().length, renderMs: status.lastRenderMs };
      });
      const shown = await readPage(page);
      console.log(
        `e2e: status page, 5,000 nodes: ${drawn.elements} elements drawn (${shown.groups.size} client groups), ` +
          `layout and render ${drawn.renderMs.toFixed(0)} ms, page load to drawing ${loadMs.toFixed(0)} ms wall, ` +
          `${cpuMs.toFixed(0)} ms of the page's main-thread CPU (scripts parsed, tables, layout, drawing)`,
      );
      expect(shown.nodes).toBe(5000);
      expect([...shown.groups.values()].reduce((n, size) => n + size, 0)).toBe(
        5000 - shown.reflectors,
      );
      expect(drawn.elements).toBeLessThan(400);
      // Choosing another cluster in the table draws that one.
      await page.click("#fleet button:text-is('small')");
      await page.waitForFunction(
        () => document.querySelector("[data-count=nodes]")?.textContent === "12",
        undefined,
        { timeout: 30_000 },
      );
      expect(await page.textContent("[data-testid=cluster-name]")).toBe("small");
      expect(page.url()).toMatch(/#cluster=small$/);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
