/**
 * The fleet benchmark (`npm run bench:fleet -w @rrfleet/e2e`): real API servers on one etcd,
 * real watcher and applier processes, a redis-server. Prints, asserts nothing:
 * - time for the whole fleet to converge from scratch;
 * - node-event-to-write latency p50/p99: a node is created (harness clock) → the first write
 *   the leader makes for it, as the API server's audit log records it;
 * - watcher RSS per watched node; Redis bytes per node of the stored snapshots.
 * Size with BENCH_CLUSTERS (default 4) and BENCH_NODES (nodes per cluster, default 500),
 * BENCH_EVENTS (latency samples, default 30), BENCH_WATCHERS (default 2).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectRedis, createRedisFleetState } from "@rrfleet/fleet-state";
import { afterAll, it } from "vitest";
import {
  createNodeFactory,
  readAuditedWrites,
  startFleetService,
  startTestFleet,
  startTestRedis,
  waitFor,
  writeFleetFile,
  type FleetServiceProcess,
  type TestFleet,
  type TestRedis,
} from "../harness/index.js";

const CLUSTERS = Number(process.env["BENCH_CLUSTERS"] ?? 4);
const NODES = Number(process.env["BENCH_NODES"] ?? 500);
const EVENTS = Number(process.env["BENCH_EVENTS"] ?? 30);
const WATCHERS = Number(process.env["BENCH_WATCHERS"] ?? 2);
const ZONES = ["zone-a", "zone-b", "zone-c"];

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

it(`fleet benchmark: ${CLUSTERS} clusters × ${NODES} nodes`, async () => {
  const names = Array.from({ length: CLUSTERS }, (_, i) => `bench-${i}`);
  const started = performance.now();
  const fleet: TestFleet = await startTestFleet(names, { auditLog: true });
  cleanups.push(() => fleet.stop());
  const dir = await mkdtemp(join(tmpdir(), "rrfleet-bench-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const factories = names.map((name) =>
    createNodeFactory(fleet.cluster(name).kubeConfig, { concurrency: 32 }),
  );
  for (const factory of factories) await factory.createNodes(NODES, { zones: ZONES });
  console.log(
    `bench: ${CLUSTERS} API servers and ${CLUSTERS * NODES} nodes ready in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  const redis: TestRedis = await startTestRedis(dir);
  cleanups.push(() => redis.stop());
  const fleetFile = await writeFleetFile(
    join(dir, "fleet.yaml"),
    names.map((name) => ({
      name,
      kubeconfigPath: fleet.cluster(name).kubeconfigPath,
      context: name,
    })),
    { topology: "multi" },
  );
  const env = {
    REDIS_URL: redis.url,
    FLEET_FILE: fleetFile,
    HEARTBEAT_SECONDS: "2",
    LOG_LEVEL: "warn",
  };
  const services: FleetServiceProcess[] = [];
  cleanups.push(() => Promise.all(services.map((s) => s.stop(5_000))));
  for (let i = 1; i <= WATCHERS; i++) {
    services.push(await startFleetService({ kind: "watcher", id: `watcher-${i}`, dir, env }));
  }
  // Watchers own nothing until a leader publishes a shard map: their baseline memory.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const watcherRssOf = async (): Promise<number> =>
    (
      await Promise.all(services.filter((s) => s.kind === "watcher").map((s) => s.rssBytes()))
    ).reduce<number>((sum, rss) => sum + (rss ?? 0), 0);
  const watcherBaseline = await watcherRssOf();
  const startedAt = Date.now();
  const applier = await startFleetService({
    kind: "applier",
    id: "applier-1",
    dir,
    env: {
      ...env,
      SESSION_CHECK: "delay",
      SWITCHOVER_DELAY_SECONDS: "0.5",
      CLUSTER_QPS: "50",
      CLUSTER_BURST: "100",
      GLOBAL_QPS: "200",
      GLOBAL_BURST: "400",
      MAX_PARALLEL_CLUSTERS: String(Math.min(8, CLUSTERS)),
    },
  });
  services.push(applier);
  const client = await connectRedis(redis.url);
  cleanups.push(() => {
    client.disconnect();
    return Promise.resolve();
  });
  const state = createRedisFleetState(client, { prefix: "rrfleet" });
  const converged = async (): Promise<boolean> => {
    const statuses = await state.readStatuses();
    return names.every((name) => statuses[name]?.phase === "Converged");
  };
  await waitFor(async () => ((await converged()) ? true : undefined), {
    description: "the fleet converged",
    timeoutMs: 1_800_000,
    intervalMs: 250,
  });
  const convergeS = (Date.now() - startedAt) / 1000;

  // Node-event-to-write latency, one event at a time, round-robin over the clusters.
  const latencies: number[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const index = i % CLUSTERS;
    const name = names[index] ?? "";
    const [node] = (await factories[index]?.createNodes(1, { zones: ZONES, prefix: "late" })) ?? [];
    const nodeName = node?.metadata?.name ?? "";
    const createdAt = Date.now();
    const logFile = fleet.cluster(name).auditLogFile ?? "";
    const write = await waitFor(
      async () =>
        (await readAuditedWrites(logFile)).find(
          (w) =>
            w.user === "admin" &&
            w.resource === "nodes" &&
            w.name === nodeName &&
            w.verb === "patch" &&
            w.epoch !== undefined,
        ),
      { description: `the leader's write for ${nodeName}`, timeoutMs: 60_000, intervalMs: 20 },
    );
    latencies.push(write.receivedAt - createdAt);
    await waitFor(async () => ((await converged()) ? true : undefined), {
      description: "converged again",
      timeoutMs: 120_000,
      intervalMs: 100,
    });
  }
  latencies.sort((a, b) => a - b);

  const watcherRss = await watcherRssOf();
  const applierRss = (await applier.rssBytes()) ?? 0;
  let snapshotBytes = 0;
  for (const name of names) {
    snapshotBytes += Number(
      (await client.call("MEMORY", "USAGE", `rrfleet:cluster:{${name}}:snapshot`)) ?? 0,
    );
  }
  const nodes = CLUSTERS * NODES + EVENTS;
  console.log(
    [
      `bench: fleet ${CLUSTERS} clusters × ${NODES} nodes, ${WATCHERS} watchers, 1 applier`,
      `bench: converged from scratch in ${convergeS.toFixed(1)} s`,
      `bench: node-event-to-write latency over ${EVENTS} events: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies.at(-1) ?? NaN} ms`,
      `bench: watcher RSS ${(watcherRss / 2 ** 20).toFixed(0)} MiB total (${(watcherBaseline / 2 ** 20).toFixed(0)} MiB with no cluster), ${((watcherRss - watcherBaseline) / nodes / 1024).toFixed(1)} KiB per watched node above that; applier RSS ${(applierRss / 2 ** 20).toFixed(0)} MiB`,
      `bench: Redis snapshots ${(snapshotBytes / 1024).toFixed(0)} KiB, ${(snapshotBytes / nodes).toFixed(1)} bytes per node`,
    ].join("\n"),
  );
});
