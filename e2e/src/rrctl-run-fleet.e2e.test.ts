import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { connectCluster, readClusterSnapshot } from "@rrfleet/kube";
import { planCluster, DEFAULT_POLICY } from "@rrfleet/topology-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createNodeFactory,
  describeExit,
  findFreePort,
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

/**
 * One kubeconfig holding every cluster's contexts, as an operator's would, plus a context
 * `gone` whose server nobody listens on (a cluster that is down or unreachable).
 */
async function mergeKubeconfigs(clusters: readonly TestCluster[], path: string): Promise<void> {
  const configs = await Promise.all(
    clusters.map(async (c) => JSON.parse(await readFile(c.kubeconfigPath, "utf8")) as Kubeconfig),
  );
  const first = configs[0];
  const firstCluster = first?.clusters[0] as { name: string; cluster: { server: string } };
  const firstContext = first?.contexts[0] as { name: string; context: { user: string } };
  const gone = {
    cluster: {
      name: "gone",
      cluster: { ...firstCluster.cluster, server: `https://127.0.0.1:${await findFreePort()}` },
    },
    context: { name: "gone", context: { ...firstContext.context, cluster: "gone" } },
  };
  const merged = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [...configs.flatMap((c) => c.clusters), gone.cluster],
    users: configs.flatMap((c) => c.users),
    contexts: [...configs.flatMap((c) => c.contexts), gone.context],
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
    // The metrics follow the API's state a pass later: poll them, never read them once.
    await waitFor(
      async () => {
        const metrics = (await run?.probe("/metrics"))?.body ?? "";
        return /rrfleet_cluster_converged\{cluster="east"\} 1/.test(metrics) &&
          /rrfleet_cluster_converged\{cluster="west"\} 1/.test(metrics)
          ? true
          : undefined;
      },
      { description: "rrfleet_cluster_converged 1 for east and west", timeoutMs: 60_000 },
    );
  });

  it("manages the reachable clusters when one --context cannot be reached, retrying it with backoff and saying why", async () => {
    await run?.stop();
    run = await startRrctlRun({
      cluster: fleet.cluster("east"),
      kubeconfigPath,
      contexts: ["east", "west", "gone"],
      args: ["--session-check", "delay", "--switchover-delay-seconds", "0.2"],
      logName: "rrctl-run-gone.log",
    });
    const west = fleet.cluster("west");
    await createNodeFactory(west.kubeConfig, {
      kubeletVersion: west.kubeApiserverVersion,
    }).createNodes(3, { zones: ["zone-a", "zone-b"], prefix: "withgone" });
    await waitForConverged(west);

    interface FleetView {
      clusters: { name: string; phase: string; reason: string; message: string }[];
    }
    const gone = await waitFor(
      async () => {
        const view = JSON.parse((await run?.probe("/api/fleet"))?.body ?? "{}") as FleetView;
        const row = view.clusters.find((c) => c.name === "gone");
        return row?.phase === "Failing" ? row : undefined;
      },
      { description: "gone reported Failing on the status API", timeoutMs: 60_000 },
    );
    expect(gone.reason).toBe("Unavailable");
    expect(gone.message).toMatch(/ECONNREFUSED/);
    const attempts = await waitFor(
      async () => {
        const metrics = (await run?.probe("/metrics"))?.body ?? "";
        const value = /rrfleet_watch_start_errors_total\{cluster="gone"\} (\d+)/.exec(metrics)?.[1];
        return value === undefined ? undefined : Number(value);
      },
      { description: "start errors of gone counted", timeoutMs: 60_000 },
    );
    expect(attempts).toBeGreaterThan(0);
    expect(run.exitStatus()).toBeUndefined();
    // Warned once; the retries (with backoff) are debug lines, not a warning each second.
    const log = await readFile(run.logFile, "utf8");
    const warnings = log
      .split("\n")
      .filter((line) =>
        line.includes('"could not start watching the cluster; retrying with backoff"'),
      )
      .filter((line) => line.includes('"level":"warn"'));
    expect(warnings).toHaveLength(1);
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
