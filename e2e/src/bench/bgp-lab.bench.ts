/**
 * The larger BGP lab run (`npm run bench:bgp -w @rrfleet/e2e`): BENCH_NODES real BIRD speakers
 * (default 200) and `rrctl run` with BENCH_REFLECTORS reflectors (default 3). Prints, asserts
 * nothing: how long the full mesh takes to route every node, the `bgp:` lines of a fresh
 * rollout and of a reflector deleted, and the lab's memory (every BIRD's and route monitor's RSS).
 * Not part of `npm test` (the 30-node suites are).
 */
import { readFile } from "node:fs/promises";
import { connectCluster, readClusterSnapshot } from "@rrfleet/kube";
import { parsePolicy } from "@rrfleet/topology-core";
import { afterAll, it } from "vitest";
import {
  describeGaps,
  measureScenario,
  startBgpLab,
  type BgpLab,
  type ScenarioResult,
} from "../bgp-lab/index.js";
import { runCommand } from "../bgp-lab/run-command.js";
import {
  createNodeFactory,
  describeExit,
  startRrctlRun,
  startTestCluster,
  waitFor,
  waitForReady,
  type RrctlRunProcess,
  type TestCluster,
} from "../harness/index.js";

const NODES = Number(process.env["BENCH_NODES"] ?? 200);
const REFLECTORS = Number(process.env["BENCH_REFLECTORS"] ?? 3);
const POLICY = {
  topology: "multi",
  min: REFLECTORS,
  max: REFLECTORS,
  reflectorsPerNode: 2,
} as const;

let cluster: TestCluster | undefined;
let lab: BgpLab | undefined;
let run: RrctlRunProcess | undefined;
afterAll(async () => {
  await run?.stop();
  await lab?.stop();
  await cluster?.stop();
});

/** Resident memory of everything running in the lab's namespaces, in MiB. */
async function labMemoryMiB(of: BgpLab): Promise<number> {
  let kib = 0;
  for (const host of of.network.hosts()) {
    const { stdout } = await runCommand("ip", ["netns", "pids", host.namespace]);
    for (const pid of stdout.split("\n").filter((line) => line.trim() !== "")) {
      const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
      kib += Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0);
    }
  }
  return kib / 1024;
}

it(`runs a ${NODES}-node BGP lab through a rollout and a reflector loss`, async () => {
  const parsed = parsePolicy(POLICY);
  if (!parsed.ok) throw new Error("bad policy");
  cluster = await startTestCluster({ name: "bgp-bench" });
  const nodes = createNodeFactory(cluster.kubeConfig, {
    kubeletVersion: cluster.kubeApiserverVersion,
  });
  await nodes.createNodes(NODES, { zones: ["zone-a", "zone-b", "zone-c"] });
  const started = Date.now();
  lab = await startBgpLab({ kubeConfig: cluster.kubeConfig });
  const theLab = lab;
  await waitFor(() => Promise.resolve(theLab.isFullyRouted() ? true : undefined), {
    description: "the full mesh routing every node",
    timeoutMs: 1_800_000,
    intervalMs: 1_000,
  });
  console.log(
    `bgp-bench: ${NODES} nodes, full mesh routed after ${((Date.now() - started) / 1000).toFixed(1)} s, ` +
      `lab memory ${(await labMemoryMiB(theLab)).toFixed(0)} MiB`,
  );
  const testCluster = cluster;
  const fresh = await measureScenario({
    name: `${NODES} nodes, ${REFLECTORS} reflectors: mesh on → reflectors, mesh off`,
    cluster: testCluster,
    lab: theLab,
    policy: parsed.policy,
    timeoutMs: 1_800_000,
    act: async () => {
      run = await startRrctlRun({
        cluster: testCluster,
        policy: POLICY,
        args: ["--resync-seconds", "10"],
      });
      await waitForReady(run);
    },
    abortIf: () => (run === undefined ? undefined : describeExit(run)),
  });
  printGaps(fresh);
  console.log(
    `bgp-bench: lab memory with reflectors ${(await labMemoryMiB(theLab)).toFixed(0)} MiB`,
  );
  const deleted = await measureScenario({
    name: `${NODES} nodes: a reflector deleted`,
    cluster: testCluster,
    lab: theLab,
    policy: parsed.policy,
    timeoutMs: 1_800_000,
    act: async () => {
      const snapshot = await readClusterSnapshot(
        connectCluster({ kubeconfigPath: testCluster.kubeconfigPath, context: testCluster.name }),
      );
      const victim = snapshot.nodes.find((n) => n.routeReflectorClusterId !== undefined)?.name;
      if (victim === undefined) throw new Error("no reflector to delete");
      await theLab.calicoNode.failNode(victim);
      await nodes.deleteNode(victim);
    },
    abortIf: () => (run === undefined ? undefined : describeExit(run)),
  });
  printGaps(deleted);
});

/** The worst gaps that were not a node's own block, if any: the benchmark asserts nothing. */
function printGaps(result: ScenarioResult): void {
  if (result.report.longestMs > 0) console.log(`bgp-bench: gaps:\n${describeGaps(result.report)}`);
}
