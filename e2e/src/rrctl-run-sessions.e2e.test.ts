import { CustomObjectsApi } from "@kubernetes/client-node";
import { connectCluster, detectCalicoApi, readClusterSnapshot } from "@rrfleet/kube";
import { DEFAULT_POLICY, planCluster } from "@rrfleet/topology-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createNodeFactory,
  describeExit,
  startFakeCalicoNode,
  startRrctlRun,
  startTestCluster,
  waitFor,
  waitForReady,
  type FakeCalicoNode,
  type RrctlRunProcess,
  type TestCluster,
} from "./harness/index.js";

/**
 * `rrctl run` with its default switchover wait: it confirms new BGP sessions from CalicoNodeStatus
 * objects (filled here by a stand-in for calico-node's status reporter, driven by the core's
 * session model) before any step may remove the sessions they replace.
 */
describe("rrctl run --session-check calico-node-status", () => {
  let cluster: TestCluster;
  let reporter: FakeCalicoNode | undefined;
  let run: RrctlRunProcess | undefined;

  const statusObjects = async (): Promise<number> => {
    const list = (await cluster.kubeConfig.makeApiClient(CustomObjectsApi).listClusterCustomObject({
      group: "crd.projectcalico.org",
      version: "v1",
      plural: "caliconodestatuses",
    })) as { items: unknown[] };
    return list.items.length;
  };

  beforeAll(async () => {
    cluster = await startTestCluster({ name: "sessions" });
    await createNodeFactory(cluster.kubeConfig, {
      kubeletVersion: cluster.kubeApiserverVersion,
    }).createNodes(24, { zones: ["zone-a", "zone-b", "zone-c"] });
    const calico = await detectCalicoApi(
      connectCluster({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.name }),
    );
    reporter = startFakeCalicoNode(cluster.kubeConfig, {
      calico,
      intervalMs: 200,
      establishAfterMs: 500,
    });
  });

  afterAll(async () => {
    await run?.stop();
    await reporter?.stop();
    await cluster.stop();
  });

  it("waits for Established sessions after each step that opens them, and cleans up", async () => {
    run = await startRrctlRun({
      cluster,
      args: ["--session-check", "calico-node-status", "--session-timeout-seconds", "30"],
    });
    await waitForReady(run);
    const current = run;
    await waitFor(
      async () => {
        const snapshot = await readClusterSnapshot(
          connectCluster({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.name }),
        );
        return planCluster(snapshot, DEFAULT_POLICY, new Date()).steps.length === 0 &&
          !snapshot.bgpConfiguration.nodeToNodeMeshEnabled
          ? true
          : undefined;
      },
      {
        description: "converged",
        timeoutMs: 120_000,
        intervalMs: 500,
        abortIf: () => describeExit(current),
      },
    );
    const steps = (await current.logLines()).filter((line) =>
      String(line["msg"]).startsWith("applied step"),
    );
    const checked = steps.filter((line) => line["sessionsEstablished"] !== undefined);
    console.log(
      `e2e: session check: ${checked.length} of ${steps.length} steps waited for sessions: ` +
        checked
          .map((l) => `${String(l["reason"])} ${String(l["sessionsEstablished"])} established`)
          .join(", "),
    );
    expect(checked.length).toBeGreaterThan(0);
    expect(checked.reduce((sum, l) => sum + Number(l["sessionsEstablished"]), 0)).toBeGreaterThan(
      0,
    );
    expect(checked.every((l) => l["sessionsMissing"] === 0)).toBe(true);
    expect(await statusObjects()).toBe(0);
  });
});
