/**
 * `npm run bench -w @rrfleet/fleet-state`: how big a 5,000-node snapshot is in Redis (MEMORY
 * USAGE) and how long publishing and reading it takes, against a throwaway redis-server. Prints
 * numbers; asserts nothing. Runs on the built package with Node's type stripping.
 */
import { createRedisFleetState, encodeSnapshot } from "@rrfleet/fleet-state";
import { Redis } from "ioredis";
import { makeRealisticSnapshot } from "../src/testing/make-realistic-snapshot.ts";
import { startRedisServer } from "../src/testing/start-redis-server.ts";

const SIZES = (process.env["BENCH_SIZES"] ?? "1000,5000,20000").split(",").map(Number);
const REPS = Number(process.env["BENCH_REPS"] ?? "20");

interface Timing {
  readonly median: number;
  readonly p90: number;
}

async function time(reps: number, fn: (i: number) => Promise<unknown>): Promise<Timing> {
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    await fn(i);
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return {
    median: samples[Math.floor(samples.length / 2)] ?? 0,
    p90: samples[Math.floor(samples.length * 0.9)] ?? 0,
  };
}

const ms = (t: Timing) => `${t.median.toFixed(1)} ms (p90 ${t.p90.toFixed(1)})`;

const server = await startRedisServer();
const redis = new Redis(server.url);
try {
  const state = createRedisFleetState(redis, { prefix: "bench" });
  console.log(`redis-server ${(await redis.info("server")).match(/redis_version:(\S+)/)?.[1]}`);
  for (const nodes of SIZES) {
    const snapshots = [1, 2].map((seed) => makeRealisticSnapshot({ nodes, seed }));
    const [one, two] = snapshots as [(typeof snapshots)[0], (typeof snapshots)[0]];
    const plainJson = Buffer.byteLength(JSON.stringify(one));
    const encoded = encodeSnapshot(one);
    const hashOnly = await time(REPS, () => Promise.resolve(encodeSnapshot(one).hash));
    const compressed = await time(REPS, () => Promise.resolve(encodeSnapshot(one).bytes));
    const cluster = `bench-${nodes}`;
    const meta = { watcher: "bench", observedAt: Date.now() };
    await state.publishSnapshot(cluster, one, meta);
    const usage =
      (await redis.memory("USAGE", `bench:cluster:{${cluster}}:snapshot`, "SAMPLES", "0")) ?? 0;
    const changed = await time(REPS, (i) =>
      state.publishSnapshot(cluster, i % 2 === 0 ? two : one, meta),
    );
    const unchanged = await time(REPS, () => state.publishSnapshot(cluster, one, meta));
    const read = await time(REPS, () => state.readSnapshot(cluster));
    console.log(
      [
        `\n${nodes} nodes (10 labels each, ${one.bgpPeers.length} BGPPeers)`,
        `  plain JSON of the snapshot      ${(plainJson / nodes).toFixed(1)} B/node`,
        `  encoded (deflated compact form) ${(encoded.bytes.length / nodes).toFixed(1)} B/node, ${(encoded.bytes.length / 1024).toFixed(0)} KiB`,
        `  Redis MEMORY USAGE of the key   ${(usage / nodes).toFixed(1)} B/node, ${(usage / 1024).toFixed(0)} KiB`,
        `  encode, hash only               ${ms(hashOnly)}`,
        `  encode and deflate              ${ms(compressed)}`,
        `  publish, changed                ${ms(changed)}`,
        `  publish, unchanged              ${ms(unchanged)}`,
        `  read (fetch + decode)           ${ms(read)}`,
      ].join("\n"),
    );
  }
  const marks = await time(500, (i) => state.markDirty(`c${i % 50}`, { reason: "Resync" }));
  const takeAndAck = await time(100, async (i) => {
    for (let c = 0; c < 10; c++) await state.markDirty(`t${i}-${c}`, { reason: "Resync" });
    const entries = await state.takeDirty(10);
    await Promise.all(entries.map((entry) => state.ackDirty(entry)));
  });
  const lease = await time(500, () => state.acquireOrRenew("bench-leader", 15_000));
  const tokens = await time(500, () =>
    state.takeTokens("bench", { ratePerSecond: 1e6, burst: 1e6 }),
  );
  const heartbeat = await time(500, (i) => state.heartbeat(`w${i % 20}`, { ttlMs: 30_000 }));
  const fine = (t: Timing) =>
    `${(t.median * 1000).toFixed(0)} µs (p90 ${(t.p90 * 1000).toFixed(0)})`;
  console.log(
    [
      "\ncoordination round trips (one client, loopback)",
      `  markDirty                             ${fine(marks)}`,
      `  10 × markDirty, takeDirty(10), 10 acks ${fine(takeAndAck)}`,
      `  acquireOrRenew                        ${fine(lease)}`,
      `  takeTokens                            ${fine(tokens)}`,
      `  heartbeat                             ${fine(heartbeat)}`,
    ].join("\n"),
  );
} finally {
  await redis.quit();
  await server.stop();
}
