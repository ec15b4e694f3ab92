import { mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import {
  buildGoTool,
  createNodeFactory,
  findFreePort,
  grantMonitoringRoles,
  MONITORING_USERS,
  runCommand,
  startManagedProcess,
  startMonitoringFleet,
  startTestFleet,
  waitFor,
  type FleetServiceProcess,
  type ManagedProcess,
  type MonitoringFleet,
  type TestFleet,
} from "../harness/index.js";
import {
  renderDashboardHtml,
  type DashboardPanel,
  type Series,
  type TargetResult,
} from "./render-dashboard-html.js";

/**
 * docs/dashboard.png: deploy/monitoring/dashboard.json drawn from a real Prometheus (v3.16, built
 * from its Go module) that scraped a real fleet — three API servers, redis-server, three
 * watchers, two appliers — through a rollout: the fleet converging from scratch, nodes joining
 * one cluster, a leader handover, two reflectors removed from another, and a cluster registered
 * with read-only credentials whose writes are refused. Grafana cannot be installed here, so
 * render-dashboard-html.ts draws the panels from Prometheus's query API and headless Chromium
 * (Debian's) takes the screenshot.
 *
 *   npm run screenshot:dashboard -w @rrfleet/e2e
 */

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const OUT = join(ROOT, "docs", "dashboard.png");
const WIDTH = 1600;
const SCRAPE = "2s";
const RATE_INTERVAL = "20s";
const DRILL_DOWN = "west";

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it("draws the dashboard from a fleet through a rollout", async () => {
  const dir = await mkdtemp(join(tmpdir(), "rrfleet-screenshot-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const prometheusBin = await buildGoTool("prometheus");

  const clusters: TestFleet = await startTestFleet(["east", "west", "north"], {
    users: MONITORING_USERS,
  });
  cleanups.push(() => clusters.stop());
  const sizes = { east: 30, west: 24, north: 18 } as const;
  for (const cluster of clusters.clusters) {
    await grantMonitoringRoles(cluster);
    await createNodeFactory(cluster.kubeConfig, {
      kubeletVersion: cluster.kubeApiserverVersion,
    }).createNodes(sizes[cluster.name as keyof typeof sizes], {
      zones: ["zone-a", "zone-b", "zone-c"],
    });
  }
  const cluster = (name: string) => clusters.cluster(name);

  // Prometheus scrapes every service; a file_sd file follows appliers that come and go.
  const targetsFile = join(dir, "targets.json");
  const writeTargets = async () => {
    const group = (job: string, services: readonly FleetServiceProcess[]) => ({
      targets: services
        .filter((s) => s.exitStatus() === undefined)
        .map((s) => new URL(s.telemetryUrl).host),
      labels: { job, namespace: "rrfleet" },
    });
    await writeFile(
      `${targetsFile}.tmp`,
      JSON.stringify([
        group("rrfleet-watcher", fleet.watchers),
        group("rrfleet-applier", fleet.appliers),
      ]),
    );
    await rename(`${targetsFile}.tmp`, targetsFile);
  };
  await writeFile(targetsFile, "[]");
  // The rule groups of fleet mode, as the chart's PrometheusRule carries them.
  const rules = parse(
    await readFile(join(ROOT, "deploy/monitoring/rrfleet.rules.yaml"), "utf8"),
  ) as {
    groups: { name: string }[];
  };
  await writeFile(
    join(dir, "rules.yaml"),
    stringify({ groups: rules.groups.filter((g) => g.name !== "rrfleet-controller") }),
  );
  await writeFile(
    join(dir, "prometheus.yml"),
    stringify({
      global: { scrape_interval: SCRAPE, evaluation_interval: SCRAPE },
      rule_files: [join(dir, "rules.yaml")],
      scrape_configs: [
        {
          job_name: "rrfleet",
          file_sd_configs: [{ files: [targetsFile], refresh_interval: "5s" }],
        },
      ],
    }),
  );
  const port = await findFreePort();
  const prometheusUrl = `http://127.0.0.1:${port}`;
  const prometheus: ManagedProcess = await startManagedProcess({
    name: "prometheus",
    command: prometheusBin,
    args: [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "tsdb")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--storage.tsdb.retention.time=2h",
    ],
    logFile: join(dir, "prometheus.log"),
  });
  cleanups.push(() => prometheus.stop());
  await waitFor(
    async () =>
      (await fetch(`${prometheusUrl}/-/ready`).catch(() => undefined))?.ok ? true : undefined,
    { description: "Prometheus ready", timeoutMs: 60_000, intervalMs: 500 },
  );
  const fleet: MonitoringFleet = await startMonitoringFleet({
    dir,
    watchers: 3,
    appliers: 2,
    env: { CLUSTER_QPS: "3", CLUSTER_BURST: "3" },
    clusters: [
      { name: "east", cluster: cluster("east") },
      { name: "west", cluster: cluster("west") },
      { name: "north", cluster: cluster("north") },
      // Registered with read-only credentials for its appliers: every write is refused.
      {
        name: "legacy",
        cluster: cluster("north"),
        applierUser: "reader",
        policy: { topology: "single" },
      },
    ],
  });
  cleanups.push(() => fleet.stop());

  await writeTargets();
  const start = Math.floor(Date.now() / 1000);

  const leader = async (): Promise<FleetServiceProcess | undefined> => {
    for (const applier of fleet.appliers) {
      if (applier.exitStatus() !== undefined) continue;
      const metrics = await applier.metrics();
      if ([...metrics].some(([k, v]) => k.startsWith("rrfleet_leader{") && v === 1)) return applier;
    }
    return undefined;
  };
  const converged = (names: readonly string[]) =>
    waitFor(
      async () => {
        const metrics = await (await leader())?.metrics();
        return names.every((n) => metrics?.get(`rrfleet_cluster_converged{cluster="${n}"}`) === 1)
          ? true
          : undefined;
      },
      { description: `${names.join(", ")} converged`, timeoutMs: 300_000, intervalMs: 1_000 },
    );

  console.log("screenshot: the fleet converges from scratch");
  await converged(["east", "west", "north"]);
  await sleep(40_000);

  console.log("screenshot: 9 nodes join west");
  await createNodeFactory(cluster("west").kubeConfig, {
    kubeletVersion: cluster("west").kubeApiserverVersion,
  }).createNodes(9, { zones: ["zone-a", "zone-b", "zone-c"], prefix: "joined" });
  await sleep(5_000);
  await converged(["west"]);
  await sleep(30_000);

  console.log("screenshot: leader handover (SIGTERM to the leader, a new standby started)");
  const old = await leader();
  await fleet.startApplier();
  await writeTargets();
  await sleep(10_000);
  await old?.stop();
  await waitFor(async () => ((await leader()) !== undefined ? true : undefined), {
    description: "a new leader",
    timeoutMs: 60_000,
    intervalMs: 500,
  });
  await sleep(30_000);

  console.log("screenshot: two of east's reflectors are deleted");
  const core = cluster("east").kubeConfig.makeApiClient(CoreV1Api);
  const reflectors = await core.listNode({ labelSelector: "rrfleet.io/reflector" });
  for (const node of reflectors.items.slice(0, 2)) {
    await core.deleteNode({ name: node.metadata?.name ?? "" });
  }
  await sleep(5_000);
  await converged(["east"]);
  await sleep(40_000);
  const end = Math.floor(Date.now() / 1000);

  // Every panel's queries, as Grafana would send them with these variable values.
  const dashboard = JSON.parse(
    await readFile(join(ROOT, "deploy/monitoring/dashboard.json"), "utf8"),
  ) as {
    title: string;
    panels: (DashboardPanel & { targets?: { refId: string; expr: string }[] })[];
  };
  const substitute = (expr: string) =>
    expr
      .replaceAll("$__rate_interval", RATE_INTERVAL)
      .replaceAll("$namespace", ".*")
      .replaceAll("$cluster", DRILL_DOWN);
  const query = async (expr: string, instant: boolean): Promise<TargetResult> => {
    const params = new URLSearchParams(
      instant
        ? { query: substitute(expr), time: String(end) }
        : { query: substitute(expr), start: String(start), end: String(end), step: "5" },
    );
    const response = await fetch(
      `${prometheusUrl}/api/v1/${instant ? "query" : "query_range"}?${params.toString()}`,
    );
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: {
        result: {
          metric: Record<string, string>;
          value?: [number, string];
          values?: [number, string][];
        }[];
      };
    };
    if (body.status !== "success") throw new Error(`${expr}: ${body.error ?? response.status}`);
    return (body.data?.result ?? []).map((r): Series => ({
      labels: r.metric,
      points: (r.values ?? (r.value === undefined ? [] : [r.value])).map(
        ([t, v]) => [t, Number(v)] as const,
      ),
    }));
  };
  const results = new Map<number, Map<string, TargetResult>>();
  let empty = 0;
  for (const panel of dashboard.panels) {
    const byRef = new Map<string, TargetResult>();
    for (const target of panel.targets ?? []) {
      const result = await query(target.expr, panel.type === "stat");
      if (result.length === 0) empty++;
      byRef.set(target.refId, result);
    }
    results.set(panel.id, byRef);
  }
  const alerts = await query("ALERTS", true);
  console.log(
    `screenshot: alerts at the end: ${alerts.map((a) => `${a.labels["alertname"]}(${a.labels["alertstate"]})`).join(", ") || "none"}`,
  );

  const html = renderDashboardHtml({
    title: `${dashboard.title} — cluster = ${DRILL_DOWN}`,
    panels: dashboard.panels,
    results,
    variables: { cluster: DRILL_DOWN },
    start,
    end,
    width: WIDTH,
    caption:
      "deploy/monitoring/dashboard.json drawn from Prometheus v3.16 query results by e2e/src/screenshot (not Grafana): " +
      "a real fleet (3 kube-apiservers, redis-server, 3 watchers, 2 appliers) converging, nodes joining west, a leader handover, " +
      "2 reflectors of east deleted; cluster legacy has read-only credentials.",
  });
  const page = join(dir, "dashboard.html");
  await writeFile(page, html);
  const height = Math.max(...dashboard.panels.map((p) => p.gridPos.y + p.gridPos.h)) * 30 + 70;
  const shot = await runCommand(
    process.env["CHROMIUM_BIN"] ?? "/usr/bin/chromium",
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--hide-scrollbars",
      `--window-size=${WIDTH},${height}`,
      `--screenshot=${OUT}`,
      `file://${page}`,
    ],
    { timeoutMs: 120_000 },
  );
  expect(shot.code, shot.stderr).toBe(0);
  console.log(
    `screenshot: ${OUT} (${WIDTH}×${height}); ${empty} panel queries without data (e.g. no write errors in the drill-down cluster)`,
  );
});
