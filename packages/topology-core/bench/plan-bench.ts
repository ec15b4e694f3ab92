/**
 * `npm run bench`: how fast rrfleet plans, how many objects and sessions it leaves, and how many
 * clients move on common events, next to a baseline that does what the earlier automation
 * attempt did (one BGPPeer per client × reflector, round-robin assignment recomputed from scratch).
 * Prints numbers; asserts nothing. Lives outside src/ because it reads the clock; runs on the
 * built package with Node's type stripping (`node bench/plan-bench.ts`).
 */
import {
  DEFAULT_POLICY,
  planCluster,
  type ClusterSnapshot,
  type NodeInfo,
  type Policy,
} from "@rrfleet/topology-core";
import {
  countMovedClients,
  makeCluster,
  makeNodes,
  readAssignment,
  simulateSteps,
} from "@rrfleet/topology-core/testing";
import { planBaseline } from "./baseline.ts";

const NOW = new Date("2026-06-01T12:00:00Z");
const POLICY: Policy = { ...DEFAULT_POLICY, topology: "multi", reflectorsPerNode: 2 };
const SIZES = (process.env["BENCH_SIZES"] ?? "1000,5000,20000,100000").split(",").map(Number);
const ZONES = ["a", "b", "c"];

interface Timing {
  readonly median: number;
  readonly p90: number;
}

function time(reps: number, fn: () => void): Timing {
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return {
    median: samples[Math.floor(samples.length / 2)] ?? 0,
    p90: samples[Math.floor(samples.length * 0.9)] ?? 0,
  };
}

function converge(cluster: ClusterSnapshot): ClusterSnapshot {
  return simulateSteps(cluster, planCluster(cluster, POLICY, NOW).steps).at(-1) ?? cluster;
}

interface Row {
  readonly label: string;
  readonly rrfleet: string;
  readonly baseline: string;
}

function report(nodes: number, rows: readonly Row[]): void {
  const width = Math.max(...rows.map((r) => r.label.length));
  console.log(
    `\n${nodes.toLocaleString("en-US")} nodes (${ZONES.length} zones, topology multi, 2 reflectors per client)`,
  );
  console.log(`  ${"".padEnd(width)}  ${"rrfleet".padStart(18)}  ${"baseline".padStart(18)}`);
  for (const row of rows)
    console.log(
      `  ${row.label.padEnd(width)}  ${row.rrfleet.padStart(18)}  ${row.baseline.padStart(18)}`,
    );
}

const ms = (t: Timing) => `${t.median.toFixed(2)} ms (p90 ${t.p90.toFixed(1)})`;
const n = (value: number) => value.toLocaleString("en-US");

for (const size of SIZES) {
  const reps = size <= 1000 ? 40 : size <= 5000 ? 25 : size <= 20000 ? 9 : 5;
  const fresh = makeCluster(makeNodes(size, ZONES));
  for (let i = 0; i < 3; i++) planCluster(fresh, POLICY, NOW); // warm the JIT
  const freshTime = time(reps, () => planCluster(fresh, POLICY, NOW));
  const plan = planCluster(fresh, POLICY, NOW);
  const converged = simulateSteps(fresh, plan.steps).at(-1) ?? fresh;
  const steadyTime = time(reps, () => planCluster(converged, POLICY, NOW));
  const summary = planCluster(converged, POLICY, NOW).summary;
  const reflectorNames = plan.routeReflectors.map((r) => r.node);
  const reflectorSet = new Set(reflectorNames);
  const clients = converged.nodes.filter((node) => !reflectorSet.has(node.name));
  const start = readAssignment(converged);

  // Baseline on the same reflectors.
  const baselineTime = time(reps, () => planBaseline(fresh.nodes, reflectorNames, 2));
  const base = planBaseline(fresh.nodes, reflectorNames, 2);

  // Event 1: a client is removed.
  const victim = clients[Math.floor(clients.length / 2)] as NodeInfo;
  const withoutClient: ClusterSnapshot = {
    ...converged,
    nodes: converged.nodes.filter((x) => x !== victim),
  };
  const clientTime = time(reps, () => planCluster(withoutClient, POLICY, NOW));
  const afterClient = readAssignment(converge(withoutClient));
  const baseAfterClient = planBaseline(withoutClient.nodes, reflectorNames, 2);

  // Event 2: a reflector is lost (node deleted).
  const lostName = reflectorNames[0] ?? "";
  const lostClients = [...start.values()].filter((rrs) => rrs.split(",").includes(lostName)).length;
  const withoutReflector: ClusterSnapshot = {
    ...converged,
    nodes: converged.nodes.filter((x) => x.name !== lostName),
  };
  const reflectorTime = time(reps, () => planCluster(withoutReflector, POLICY, NOW));
  const replanned = planCluster(withoutReflector, POLICY, NOW);
  const afterReflector = readAssignment(
    simulateSteps(withoutReflector, replanned.steps).at(-1) ?? withoutReflector,
  );
  const newReflectors = replanned.routeReflectors.map((r) => r.node);
  const baseAfterReflector = planBaseline(withoutReflector.nodes, newReflectors, 2);

  // Event 3: growth by 2% (new clients join).
  const joiners = makeNodes(Math.ceil(size * 0.02), ZONES, "joiner");
  const grown: ClusterSnapshot = { ...converged, nodes: [...converged.nodes, ...joiners] };
  const growthTime = time(reps, () => planCluster(grown, POLICY, NOW));
  const grownPlan = planCluster(grown, POLICY, NOW);
  const afterGrowth = readAssignment(simulateSteps(grown, grownPlan.steps).at(-1) ?? grown);
  const baseAfterGrowth = planBaseline(
    grown.nodes,
    grownPlan.routeReflectors.map((r) => r.node),
    2,
  );

  const none = new Set<string>();
  report(size, [
    {
      label: "plan, fresh cluster (mesh on, no RRs)",
      rrfleet: ms(freshTime),
      baseline: ms(baselineTime),
    },
    {
      label: "  steps / actions",
      rrfleet: `${plan.steps.length} / ${n(plan.summary.actions)}`,
      baseline: `1 / ${n(base.objects + size)}`,
    },
    { label: "  verdict", rrfleet: plan.summary.analysis.verdict, baseline: "not analysed" },
    {
      label: "replan, converged (nothing to do)",
      rrfleet: ms(steadyTime),
      baseline: ms(baselineTime),
    },
    { label: "reflectors", rrfleet: n(summary.reflectors), baseline: n(reflectorNames.length) },
    { label: "BGPPeer objects", rrfleet: n(summary.bgpPeers), baseline: n(base.objects) },
    { label: "BGP sessions", rrfleet: n(summary.sessions), baseline: n(base.sessions) },
    {
      label: "  full mesh would be",
      rrfleet: n(summary.fullMeshSessions),
      baseline: n(summary.fullMeshSessions),
    },
    {
      label: "clients per reflector (max)",
      rrfleet: `${n(summary.clientsPerReflector.max)} (bound ${n(summary.clientsPerReflector.bound)})`,
      baseline: n(base.maxLoad),
    },
    { label: "event: client removed — plan", rrfleet: ms(clientTime), baseline: "-" },
    {
      label: "  other clients moved",
      rrfleet: n(countMovedClients(start, afterClient, new Set([victim.name]))),
      baseline: n(
        countMovedClients(base.byClient, baseAfterClient.byClient, new Set([victim.name])),
      ),
    },
    { label: "event: reflector lost — plan", rrfleet: ms(reflectorTime), baseline: "-" },
    {
      label: `  clients moved (it served ${n(lostClients)})`,
      rrfleet: n(countMovedClients(start, afterReflector, none)),
      baseline: n(countMovedClients(base.byClient, baseAfterReflector.byClient, none)),
    },
    { label: `event: +${n(joiners.length)} nodes — plan`, rrfleet: ms(growthTime), baseline: "-" },
    {
      label: "  existing clients moved",
      rrfleet: n(countMovedClients(start, afterGrowth, none)),
      baseline: n(countMovedClients(base.byClient, baseAfterGrowth.byClient, none)),
    },
    {
      label: "heap used after this size",
      rrfleet: `${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`,
      baseline: "-",
    },
  ]);
}
