import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createNodeFactory,
  grantMonitoringRoles,
  MONITORING_USERS,
  startMonitoringFleet,
  startTestCluster,
  waitFor,
  type MonitoringFleet,
  type NodeFactory,
  type TestCluster,
} from "./harness/index.js";

/**
 * deploy/monitoring/dashboard.json against what rrfleet really exports: a fleet (redis-server,
 * two watchers, two appliers) over a real API server runs until every metric family has samples —
 * a cluster converges, another's writes are refused (read-only credentials), a third cannot be
 * reached — and the services' /metrics are scraped. Every metric a panel or variable queries must
 * be among them, and every label it filters, groups or names in a legend must be one those
 * metrics carry (or one Prometheus adds: job, instance, namespace, pod).
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DASHBOARD = join(ROOT, "deploy/monitoring/dashboard.json");
/** Labels Prometheus (or the chart's monitors) attach to every scraped series. */
const TARGET_LABELS = new Set(["job", "instance", "namespace", "pod"]);
/** Core Grafana panel types the dashboard may use. */
const PANEL_TYPES = new Set(["row", "stat", "timeseries", "state-timeline", "table", "text"]);
const BUILTIN_VARIABLES = new Set(["__rate_interval", "__interval", "__range"]);
const PROMQL_WORDS = new Set([
  ..."sum min max avg count stddev stdvar topk bottomk quantile count_values group".split(" "),
  ..."rate irate increase delta idelta deriv changes resets absent absent_over_time".split(" "),
  ..."histogram_quantile vector scalar time label_replace label_join clamp_min clamp_max".split(
    " ",
  ),
  ..."abs ceil floor round sort sort_desc timestamp".split(" "),
  ..."max_over_time min_over_time avg_over_time sum_over_time count_over_time last_over_time".split(
    " ",
  ),
  ..."by without on ignoring group_left group_right and or unless bool offset".split(" "),
  "label_values",
]);

interface Target {
  readonly expr: string;
  readonly refId: string;
  readonly legendFormat?: string;
  readonly datasource?: { readonly type: string; readonly uid: string };
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly description?: string;
  readonly gridPos: {
    readonly x: number;
    readonly y: number;
    readonly w: number;
    readonly h: number;
  };
  readonly datasource?: { readonly type: string; readonly uid: string };
  readonly targets?: readonly Target[];
}
interface Variable {
  readonly name: string;
  readonly type: string;
  readonly query: string | { readonly query: string };
  readonly datasource?: { readonly uid: string };
}
interface Dashboard {
  readonly title: string;
  readonly uid: string;
  readonly schemaVersion: number;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly Variable[] };
}

/** What one PromQL expression reads: metric names, and the label names it uses per role. */
interface PromqlReferences {
  readonly metrics: Set<string>;
  /** In `{…}` selectors, per metric. */
  readonly selectorLabels: Map<string, Set<string>>;
  /** In `by (…)`, `without (…)`, `on (…)`. */
  readonly groupingLabels: Set<string>;
  readonly variables: Set<string>;
}

/** The references of a PromQL expression (enough of PromQL for dashboard queries). */
function readPromql(expr: string): PromqlReferences {
  const variables = new Set([...expr.matchAll(/\$(\w+)/g)].map((m) => m[1] ?? ""));
  const selectorLabels = new Map<string, Set<string>>();
  const groupingLabels = new Set<string>();
  let rest = expr;
  for (const m of expr.matchAll(/([a-zA-Z_:][\w:]*)?\s*\{([^}]*)\}/g)) {
    const metric = m[1] ?? "";
    const labels = [...(m[2] ?? "").matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)/g)].map(
      (l) => l[1] ?? "",
    );
    selectorLabels.set(metric, new Set([...(selectorLabels.get(metric) ?? []), ...labels]));
  }
  rest = rest
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ");
  for (const m of rest.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)) {
    for (const label of (m[1] ?? "").split(","))
      if (label.trim() !== "") groupingLabels.add(label.trim());
  }
  rest = rest.replace(/\b(?:by|without|on|ignoring)\s*\([^)]*\)/g, " ");
  const metrics = new Set(
    [...rest.matchAll(/(?<![\w$.])([a-zA-Z_:][\w:]*)/g)]
      .map((m) => m[1] ?? "")
      .filter((word) => !PROMQL_WORDS.has(word) && !/^\d/.test(word)),
  );
  return { metrics, selectorLabels, groupingLabels, variables };
}

/** Sample names (histograms as `_bucket`, `_sum`, `_count`) → the label names their samples carry. */
function readExposition(texts: readonly string[]): Map<string, Set<string>> {
  const samples = new Map<string, Set<string>>();
  for (const line of texts.join("\n").split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+\S+$/.exec(line);
    if (m === null) continue;
    const labels = [...(m[2] ?? "").matchAll(/([a-zA-Z_]\w*)="/g)].map((l) => l[1] ?? "");
    const name = m[1] ?? "";
    samples.set(name, new Set([...(samples.get(name) ?? []), ...labels]));
  }
  return samples;
}

const queriesOf = (dashboard: Dashboard): { where: string; target: Target }[] => [
  ...dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `panel "${p.title}" ${t.refId}`, target: t })),
  ),
  ...dashboard.templating.list
    .filter((v) => v.type === "query")
    .map((v) => ({
      where: `variable ${v.name}`,
      target: {
        refId: v.name,
        expr: (typeof v.query === "string" ? v.query : v.query.query).replace(
          /^label_values\((.*),\s*(\w+)\)$/,
          "max by ($2) ($1)",
        ),
      },
    })),
];

describe("deploy/monitoring/dashboard.json", () => {
  let dashboard: Dashboard;
  let cluster: TestCluster;
  let nodes: NodeFactory;
  let fleet: MonitoringFleet | undefined;
  let dir: string;
  let exported: Map<string, Set<string>>;

  const leaderMetrics = async (): Promise<Map<string, number>> => {
    for (const applier of fleet?.appliers ?? []) {
      const metrics = await applier.metrics();
      if ([...metrics].some(([k, v]) => k.startsWith("rrfleet_leader{") && v === 1)) return metrics;
    }
    return new Map();
  };
  const has = (metrics: Map<string, number>, prefix: string) =>
    [...metrics.keys()].some((k) => k.startsWith(prefix));

  beforeAll(async () => {
    dashboard = JSON.parse(await readFile(DASHBOARD, "utf8")) as Dashboard;
    dir = await mkdtemp(join(tmpdir(), "rrfleet-dashboard-"));
    cluster = await startTestCluster({ name: "dash", users: MONITORING_USERS });
    await grantMonitoringRoles(cluster);
    nodes = createNodeFactory(cluster.kubeConfig, { kubeletVersion: cluster.kubeApiserverVersion });
    await nodes.createNodes(18, { zones: ["zone-a", "zone-b", "zone-c"] });
    fleet = await startMonitoringFleet({
      dir,
      watchers: 2,
      appliers: 2,
      clusters: [
        { name: "east", cluster },
        // The same nodes under another policy, with read-only credentials: every write refused.
        { name: "readonly", cluster, applierUser: "reader", policy: { reflectorsPerNode: 3 } },
        { name: "gone" },
      ],
    });
    const seen = async (description: string, test: (m: Map<string, number>) => boolean) =>
      waitFor(async () => (test(await leaderMetrics()) ? true : undefined), {
        description,
        timeoutMs: 120_000,
        intervalMs: 500,
      });
    await seen("east converged", (m) => m.get('rrfleet_cluster_converged{cluster="east"}') === 1);
    const writes = (m: Map<string, number>) =>
      [...m]
        .filter(([k]) => k.startsWith('rrfleet_plan_actions_applied_total{cluster="east"'))
        .reduce((sum, [, v]) => sum + v, 0);
    const before = writes(await leaderMetrics());
    // Nodes join: one more round of steps, watch events and event-to-write latencies.
    await nodes.createNodes(3, { zones: ["zone-a", "zone-b", "zone-c"], prefix: "late" });
    await seen(
      "east converged again with the new nodes, and readonly's writes refused",
      (m) =>
        writes(m) > before &&
        m.get('rrfleet_cluster_converged{cluster="east"}') === 1 &&
        has(m, 'rrfleet_write_errors_total{cluster="readonly",code="Forbidden"}') &&
        has(m, "rrfleet_node_event_to_write_seconds_count"),
    );
    await waitFor(
      async () => {
        for (const watcher of fleet?.watchers ?? []) {
          if (has(await watcher.metrics(), 'rrfleet_watch_start_errors_total{cluster="gone"}')) {
            return true;
          }
        }
        return undefined;
      },
      { description: "a watcher failing to reach gone", timeoutMs: 60_000, intervalMs: 500 },
    );
    const texts = await Promise.all(
      [...fleet.watchers, ...fleet.appliers].map(async (p) =>
        (await fetch(`${p.telemetryUrl}/metrics`)).text(),
      ),
    );
    exported = readExposition(texts);
  });

  afterAll(async () => {
    await fleet?.stop();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("is a dashboard model Grafana loads: ids, grid, panel types, data sources, variables", () => {
    expect(dashboard).toMatchObject({ title: "rrfleet", uid: "rrfleet-overview" });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size, "panel ids are unique").toBe(ids.length);
    const variables = new Set(dashboard.templating.list.map((v) => v.name));
    const taken = new Set<string>();
    for (const panel of dashboard.panels) {
      const { x, y, w, h } = panel.gridPos;
      expect(PANEL_TYPES, panel.title).toContain(panel.type);
      expect([x, y, w, h].every(Number.isInteger) && x >= 0 && w >= 1 && h >= 1, panel.title).toBe(
        true,
      );
      expect(x + w, `${panel.title} fits the 24-column grid`).toBeLessThanOrEqual(24);
      for (let col = x; col < x + w; col++) {
        for (let row = y; row < y + h; row++) {
          expect(taken.has(`${col},${row}`), `${panel.title} overlaps another panel`).toBe(false);
          taken.add(`${col},${row}`);
        }
      }
      if (panel.type === "row") continue;
      expect(panel.description, `${panel.title} explains itself`).toBeTruthy();
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      const refIds = (panel.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size, `${panel.title} refIds`).toBe(refIds.length);
      for (const target of panel.targets ?? []) {
        expect(target.datasource ?? panel.datasource, panel.title).toEqual({
          type: "prometheus",
          uid: "${datasource}",
        });
      }
    }
    for (const { where, target } of queriesOf(dashboard)) {
      for (const variable of readPromql(target.expr).variables) {
        expect(
          variables.has(variable) || BUILTIN_VARIABLES.has(variable),
          `${where} uses $${variable}`,
        ).toBe(true);
      }
    }
    expect(dashboard.templating.list.find((v) => v.name === "datasource")).toMatchObject({
      type: "datasource",
      query: "prometheus",
    });
  });

  it("has a fleet overview and a per-cluster drill-down driven by the cluster variable", () => {
    const rows = dashboard.panels.filter((p) => p.type === "row").map((p) => p.title);
    expect(rows).toEqual(["Fleet overview", "Cluster $cluster"]);
    const drillDownAt =
      dashboard.panels.find((p) => p.title === "Cluster $cluster")?.gridPos.y ?? 0;
    const drillDown = dashboard.panels.filter((p) => p.type !== "row" && p.gridPos.y > drillDownAt);
    expect(drillDown.length).toBeGreaterThanOrEqual(8);
    for (const panel of drillDown) {
      for (const target of panel.targets ?? []) {
        expect(target.expr, panel.title).toContain('cluster=~"$cluster"');
      }
    }
  });

  it("queries only metrics the running services export", () => {
    const missing: string[] = [];
    const queried = new Set<string>();
    for (const { where, target } of queriesOf(dashboard)) {
      for (const metric of readPromql(target.expr).metrics) {
        queried.add(metric);
        if (!exported.has(metric)) missing.push(`${where}: ${metric}`);
      }
    }
    console.log(`dashboard queries ${queried.size} metrics: ${[...queried].sort().join(", ")}`);
    expect(queried.size).toBeGreaterThanOrEqual(15);
    expect(missing).toEqual([]);
  });

  it("filters, groups and names legends by labels those metrics carry", () => {
    const problems: string[] = [];
    for (const { where, target } of queriesOf(dashboard)) {
      const refs = readPromql(target.expr);
      const carried = new Set([
        ...TARGET_LABELS,
        ...[...refs.metrics].flatMap((m) => [...(exported.get(m) ?? [])]),
      ]);
      for (const [metric, labels] of refs.selectorLabels) {
        for (const label of labels) {
          if (!TARGET_LABELS.has(label) && !(exported.get(metric)?.has(label) ?? false)) {
            problems.push(`${where}: ${metric} has no label ${label}`);
          }
        }
      }
      for (const label of refs.groupingLabels) {
        if (!carried.has(label))
          problems.push(`${where}: groups by ${label}, which no metric carries`);
      }
      for (const m of (target.legendFormat ?? "").matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
        const label = m[1] ?? "";
        if (!refs.groupingLabels.has(label) && !carried.has(label)) {
          problems.push(`${where}: legend names ${label}, which the query does not return`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("would notice a metric or a label the services do not export", () => {
    const wrongMetric = readPromql(
      'sum(rate(rrfleet_plan_actions_total{cluster=~"$cluster"}[5m]))',
    );
    expect([...wrongMetric.metrics].filter((m) => !exported.has(m))).toEqual([
      "rrfleet_plan_actions_total",
    ]);
    const wrongLabel = readPromql("sum by (node) (rrfleet_cluster_converged)");
    expect(exported.get("rrfleet_cluster_converged")?.has("node")).toBe(false);
    expect([...wrongLabel.groupingLabels]).toEqual(["node"]);
  });
});
