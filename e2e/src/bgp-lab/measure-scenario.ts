import { connectCluster, readClusterSnapshot } from "@rrfleet/kube";
import { planCluster, type ClusterSnapshot, type Policy } from "@rrfleet/topology-core";
import type { TestCluster } from "../harness/test-cluster.js";
import { waitFor } from "../harness/wait-for.js";
import { compareWithModel, type ModelComparison } from "./compare-with-model.js";
import type { GapReport } from "./route-judge.js";
import type { BgpLab } from "./start-bgp-lab.js";

/** What one scenario measured. */
export interface ScenarioResult {
  /** The `bgp: …` line (also printed). */
  readonly line: string;
  readonly report: GapReport;
  readonly sessions: number;
  /** Seconds from the scenario's start until the cluster, BGP and the kernels were at rest. */
  readonly convergedSeconds: number;
  /** The model and the lab at rest. */
  readonly comparison: ModelComparison;
  /** The cluster at rest, as the API server shows it. */
  readonly snapshot: ClusterSnapshot;
}

/** Options of {@link measureScenario}. */
export interface MeasureScenarioOptions {
  readonly name: string;
  readonly cluster: TestCluster;
  readonly lab: BgpLab;
  /** The controller's policy: "converged" means it plans nothing more. */
  readonly policy: Policy;
  /** What happens in the scenario (the controller is already running, or is started here). */
  readonly act: () => Promise<void>;
  /** The scenario's own end (say, a NotReady reflector replaced, past its grace); default none. */
  readonly until?: (snapshot: ClusterSnapshot) => boolean;
  /** Default 240 s. */
  readonly timeoutMs?: number;
  /** Fails the wait early (e.g. the controller exited). */
  readonly abortIf?: () => string | undefined;
}

/**
 * Runs a scenario and waits until everything is at rest, three polls in a row: the scenario's own
 * end (`until`) is reached, calico-node runs on every Ready node, the controller plans nothing
 * more, every BGP protocol between running BIRDs is Established, no node is changing role, and
 * every running node's kernel routes every other running node's block. Then it reports the route judge's gaps
 * since the scenario began and prints `bgp: <scenario>: gaps <ms> (own-block <ms>), sessions <n>,
 * converged <s>` (longest gaps; totals follow in brackets).
 */
export async function measureScenario(options: MeasureScenarioOptions): Promise<ScenarioResult> {
  const { cluster, lab } = options;
  const connection = connectCluster({
    kubeconfigPath: cluster.kubeconfigPath,
    context: cluster.name,
  });
  const from = Date.now();
  await options.act();
  let snapshot: ClusterSnapshot | undefined;
  let quietPolls = 0;
  await waitFor(
    async () => {
      snapshot = await readClusterSnapshot(connection);
      const running = new Set(lab.calicoNode.nodes());
      const settled =
        (options.until?.(snapshot) ?? true) &&
        // calico-node runs on every Ready node the API server shows (the lab caught up)
        snapshot.nodes.every((n) => !n.ready || running.has(n.name)) &&
        planCluster(snapshot, options.policy, new Date()).steps.length === 0 &&
        lab.calicoNode.nodes().every((node) => !lab.judge.isChangingRole(node)) &&
        (await lab.allEstablished()) &&
        lab.isFullyRouted();
      quietPolls = settled ? quietPolls + 1 : 0;
      // At rest for three polls in a row: no half-noticed change in between.
      return quietPolls >= 3 ? true : undefined;
    },
    {
      description: `scenario "${options.name}" at rest`,
      timeoutMs: options.timeoutMs ?? 240_000,
      intervalMs: 500,
      ...(options.abortIf === undefined ? {} : { abortIf: options.abortIf }),
    },
  );
  const convergedSeconds = (Date.now() - from) / 1000;
  const at = snapshot ?? (await readClusterSnapshot(connection));
  const comparison = await compareWithModel(lab, at);
  const report = lab.judge.report(from);
  const sessions = (await lab.establishedPairs()).size;
  const line = `${formatBgpLine(options.name, report, sessions, convergedSeconds)}; paths per prefix ${comparison.labPathsPerPrefix} (model ${comparison.modelPathsPerPrefix})`;
  console.log(line);
  return { line, report, sessions, convergedSeconds, comparison, snapshot: at };
}

/** `bgp: <scenario>: gaps <ms> (own-block <ms>), sessions <n>, converged <s>`, plus totals. */
export function formatBgpLine(
  scenario: string,
  report: GapReport,
  sessions: number,
  convergedSeconds: number,
): string {
  const ms = (value: number) => `${Math.round(value)} ms`;
  return (
    `bgp: ${scenario}: gaps ${ms(report.longestMs)} (own-block ${ms(report.longestOwnBlockMs)}), ` +
    `sessions ${sessions}, converged ${convergedSeconds.toFixed(1)} s ` +
    `[gap total ${ms(report.totalMs)}, own-block total ${ms(report.totalOwnBlockMs)}, ` +
    `${report.replacements} route replacements]`
  );
}

/** The worst gaps, one per line, for a failure message. */
export function describeGaps(report: GapReport, limit = 10): string {
  return report.gaps
    .filter((g) => !g.ownBlock)
    .slice(0, limit)
    .map(
      (g) =>
        `${g.observer} lacked ${g.owner}'s ${g.block} for ${Math.round(g.end - g.start)} ms from ${new Date(g.start).toISOString()}${g.open ? " (still)" : ""}`,
    )
    .join("\n");
}
