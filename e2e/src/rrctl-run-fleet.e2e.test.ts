import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { connectCluster, readClusterSnapshot } from "@rrfleet/kube";
import { planCluster, DEFAULT_POLICY } from "@rrfleet/topology-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createNodeFactory,
  describeExit,
  startRrctlRun,
  startTestFleet,
  waitFor,
  waitForReady,
  type RrctlRunProcess,
  type TestCluster,
  type TestFleet,
} from "./harness/index.js";

interface Kubeconfig {
  clusters: unknown[];
  users: unknown[];
  contexts: unknown[];
}

/** One kubeconfig holding every cluster's contexts, as an operator's would. */
async function mergeKubeconfigs(clusters: readonly TestCluster[], path: string): Promise<void> {
  const configs = await Promise.all(
    clusters.map(async (c) => JSON.parse(await readFile(c.kubeconfigPath, "utf8")) as Kubeconfig),
  );
  const merged = {
    apiVersion: "v1",
    kind: "Config",
    clusters: configs.flatMap((c) => c.clusters),
    users: configs.flatMap((c) => c.users),
    contexts: configs.flatMap((c) => c.contexts),
    "current-context": clusters[0]?.name ?? "",
  };
  await writeFile(path, JSON.stringify(merged), { mode: 0o600 });
}

/** `rrctl run` managing two clusters from one process and one kubeconfig. */
describe("rrctl run with several --context", () => {
  let fleet: TestFleet;
  let run: RrctlRunProcess | undefined;
  let kubeconfigPath: string;

  const isConverged = async (cluster: TestCluster): Promise<boolean> => {
    const snapshot = await readClusterSnapshot(
      connectCluster({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.name }),
    );
    return (
      planCluster(snapshot, DEFAULT_POLICY, new Date()).steps.length === 0 &&
      !snapshot.bgpConfiguration.nodeToNodeMeshEnabled
    );
  };

  const waitForConverged = (cluster: TestCluster): Promise<true> =>
    waitFor(async () => ((await isConverged(cluster)) ? true : undefined), {
      description: `${cluster.name} converged`,
      timeoutMs: 120_000,
      intervalMs: 500,
      abortIf: () => (run === undefined ? undefined : describeExit(run)),
    });

  beforeAll(async () => {
    fleet = await startTestFleet(["east", "west"]);
    for (const [cluster, count] of [
      [fleet.cluster("east"), 30],
      [fleet.cluster("west"), 20],
    ] as const) {
      await createNodeFactory(cluster.kubeConfig, {
        kubeletVersion: cluster.kubeApiserverVersion,
      }).createNodes(count, { zones: ["zone-a", "zone-b"] });
    }
    kubeconfigPath = join(fleet.cluster("east").dir, "fleet-kubeconfig.json");
    await mergeKubeconfigs(fleet.clusters, kubeconfigPath);
  });

  afterAll(async () => {
    await run?.stop();
    await fleet.stop();
  });

  it("converges every cluster it is given, each with its own loop and metrics", async () => {
    run = await startRrctlRun({
      cluster: fleet.cluster("east"),
      kubeconfigPath,
      contexts: ["east", "west"],
      args: ["--session-check", "delay", "--switchover-delay-seconds", "0.2"],
    });
    await waitForReady(run);
    await Promise.all(fleet.clusters.map(waitForConverged));
    const metrics = (await run.probe("/metrics")).body;
    expect(metrics).toMatch(/rrfleet_cluster_converged\{cluster="east"\} 1/);
    expect(metrics).toMatch(/rrfleet_cluster_converged\{cluster="west"\} 1/);
  });

  it("keeps managing one cluster while another's API server is gone", async () => {
    const east = fleet.cluster("east");
    const west = fleet.cluster("west");
    await east.stop();
    await createNodeFactory(west.kubeConfig, {
      kubeletVersion: west.kubeApiserverVersion,
    }).createNodes(5, { zones: ["zone-a", "zone-b"], prefix: "late" });
    expect(await isConverged(west)).toBe(false);
    await waitForConverged(west);
    expect(run?.exitStatus()).toBeUndefined();
  });
});
