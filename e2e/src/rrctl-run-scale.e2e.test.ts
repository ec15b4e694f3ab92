import { connectCluster, readClusterSnapshot } from "@rrfleet/kube";
import { findMissingRoutes, parsePolicy, planCluster, viewRoutes } from "@rrfleet/topology-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createNodeFactory,
  describeExit,
  readLogTail,
  startRrctlRun,
  startTestCluster,
  waitFor,
  waitForReady,
  type RrctlRunProcess,
  type TestCluster,
} from "./harness/index.js";

const NODES = Number(process.env["E2E_SCALE_NODES"] ?? "2000");
/** The controller runs with its V8 old space capped here: converging proves what it retains. */
const HEAP_LIMIT_MIB = Number(process.env["E2E_SCALE_HEAP_MIB"] ?? "128");

/**
 * Scale: `rrctl run` converging a cluster of 2,000 Nodes (E2E_SCALE_NODES) on a real API server.
 * It prints time to converge and the controller's memory; it asserts only correctness (timings
 * on a shared 2-core machine are numbers to read, not to assert).
 */
describe(`rrctl run at ${NODES} nodes`, () => {
  let cluster: TestCluster;
  let run: RrctlRunProcess | undefined;

  beforeAll(async () => {
    cluster = await startTestCluster({ name: "scale" });
    const started = performance.now();
    await createNodeFactory(cluster.kubeConfig, {
      kubeletVersion: cluster.kubeApiserverVersion,
      concurrency: 32,
    }).createNodes(NODES, { zones: ["zone-a", "zone-b", "zone-c"] });
    console.log(
      `e2e: scale: ${NODES} nodes created in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  });

  afterAll(async () => {
    await run?.stop();
    await cluster.stop();
  });

  it("converges, and prints time to converge and the controller's RSS", async () => {
    const policyResult = parsePolicy({});
    if (!policyResult.ok) throw new Error("default policy rejected");
    const policy = policyResult.policy;
    const started = performance.now();
    run = await startRrctlRun({
      cluster,
      nodeFlags: [`--max-old-space-size=${HEAP_LIMIT_MIB}`],
      args: [
        "--session-check",
        "delay",
        "--switchover-delay-seconds",
        "1",
        "--qps",
        "500",
        "--burst",
        "1000",
      ],
    });
    let peakRss = 0;
    const sampler = setInterval(() => {
      void run?.rssBytes().then((rss) => {
        peakRss = Math.max(peakRss, rss ?? 0);
      });
    }, 250);
    try {
      await waitForReady(run, 120_000);
      const syncedSeconds = (performance.now() - started) / 1000;
      const connection = connectCluster({
        kubeconfigPath: cluster.kubeconfigPath,
        context: cluster.name,
      });
      const plan = await waitFor(
        async () => {
          const snapshot = await readClusterSnapshot(connection);
          const next = planCluster(snapshot, policy, new Date());
          return next.steps.length === 0 && !snapshot.bgpConfiguration.nodeToNodeMeshEnabled
            ? { next, snapshot }
            : undefined;
        },
        {
          description: `${NODES} nodes converged`,
          timeoutMs: 900_000,
          intervalMs: 2_000,
          abortIf: () => (run === undefined ? undefined : describeExit(run)),
        },
      ).catch(async (err: unknown) => {
        throw new Error(`${String(err)}\n${run ? await readLogTail(run.logFile, 20) : ""}`);
      });
      const convergedSeconds = (performance.now() - started) / 1000;
      const steadyRss = (await run.rssBytes()) ?? 0;
      const metrics = (await run.probe("/metrics")).body;
      const heapUsed = Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(metrics)?.[1] ?? "NaN");
      const steps = (await run.logLines()).filter((l) =>
        String(l["msg"]).startsWith("applied step"),
      ).length;
      const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);
      console.log(
        `e2e: scale: ${NODES} nodes: synced in ${syncedSeconds.toFixed(1)} s, converged in ` +
          `${convergedSeconds.toFixed(1)} s (${steps} steps, ${plan.next.summary.reflectors} reflectors, ` +
          `${plan.next.summary.sessions} sessions vs ${plan.next.summary.fullMeshSessions} in a full mesh); ` +
          `controller RSS peak ${mib(peakRss)} MiB, converged ${mib(steadyRss)} MiB ` +
          `(${(steadyRss / NODES / 1024).toFixed(1)} KiB per node), V8 heap in use ${mib(heapUsed)} MiB ` +
          `with the old space capped at ${HEAP_LIMIT_MIB} MiB`,
      );
      const runStarted = Date.now() - convergedSeconds * 1000;
      console.log(
        `e2e: scale: timeline ${(await run.logLines())
          .filter((l) =>
            /^(applied step|converged|watching cluster|acquired)/.test(String(l["msg"])),
          )
          .map(
            (l) =>
              `+${((Date.parse(String(l["time"])) - runStarted) / 1000).toFixed(1)} s ${String(l["msg"]).slice(0, 40)}${l["rateLimitWaitMs"] === undefined ? "" : ` (waited ${Number(l["rateLimitWaitMs"])} ms for tokens)`}`,
          )
          .join("; ")}`,
      );
      expect(findMissingRoutes(viewRoutes(plan.snapshot)).pairs).toBe(0);
      // The ratio alone would ask for 10 reflectors; the path budget (maxPathsPerPrefix 32 by
      // default) stops multi at 4, since every reflector adds paths to every prefix on every node.
      expect(plan.next.summary.reflectors).toBe(4);
      expect(plan.next.summary.pathsPerPrefix).toBeLessThanOrEqual(32);
    } finally {
      clearInterval(sampler);
    }
  });
});
