import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from "vitest";
import { createRedisFleetState } from "./create-redis-fleet-state.js";
import { encodeSnapshot } from "./encode-snapshot.js";
import { FleetStateError, toFleetStateError } from "./fleet-state-error.js";
import type { FleetState } from "./fleet-state.js";
import { createRedisKeys } from "./redis-keys.js";
import { PUBLISH_SNAPSHOT, runScript } from "./redis-scripts.js";
import { describeFleetStateContract } from "./testing/describe-fleet-state-contract.js";
import { makeRealisticSnapshot } from "./testing/make-realistic-snapshot.js";
import { startRedisServer, type RedisServer } from "./testing/start-redis-server.js";

let server: RedisServer;
let prefixes = 0;

beforeAll(async () => {
  server = await startRedisServer();
});

afterAll(async () => {
  await server.stop();
});

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms);
  });

describeFleetStateContract("redis", (options) => {
  const prefix = `contract-${++prefixes}`;
  const connections = [new Redis(server.url), new Redis(server.url)] as const;
  const settings = { ...options, prefix, dirtyPollMs: 20 };
  return Promise.resolve({
    first: createRedisFleetState(connections[0], settings),
    second: createRedisFleetState(connections[1], settings),
    now: () => Date.now(),
    advance: sleep,
    flushAll: async () => {
      await connections[0].flushall();
    },
    close: async () => {
      await Promise.all(connections.map((c) => c.quit()));
    },
  });
});

describe("createRedisFleetState", () => {
  let redis: Redis;
  let state: FleetState;
  let prefix: string;
  beforeEach(() => {
    redis = new Redis(server.url);
    prefix = `redis-${++prefixes}`;
    state = createRedisFleetState(redis, { prefix, dirtyTakeTimeoutMs: 0 });
  });
  afterEach(async () => {
    await redis.quit();
  });

  it("keeps every key under the prefix, with the TTLs and hash tags the README lists", async () => {
    await state.publishSnapshot("prod-eu", makeRealisticSnapshot({ nodes: 20 }), {
      watcher: "w1",
      observedAt: 1,
    });
    await state.heartbeat("w1", { ttlMs: 30_000 });
    const lease = await state.acquireOrRenew("leader-1", 15_000);
    await state.publishShardMap({ epoch: lease.epoch, assignments: { "prod-eu": "w1" } }, lease);
    await state.takeTokens("cluster:prod-eu", { ratePerSecond: 5, burst: 10 });
    await state.writeStatus("prod-eu", {
      phase: "Converged",
      reason: "NothingToDo",
      message: "",
      updatedAt: 1,
    });

    const keys = (await redis.keys(`${prefix}:*`)).sort();
    const ttls = Object.fromEntries(
      await Promise.all(keys.map(async (key) => [key, (await redis.pttl(key)) > 0] as const)),
    );
    const types = Object.fromEntries(
      await Promise.all(keys.map(async (key) => [key, await redis.type(key)] as const)),
    );

    expect(types).toEqual({
      [`${prefix}:bucket:{cluster:prod-eu}`]: "hash",
      [`${prefix}:cluster:{prod-eu}:snapshot`]: "hash",
      [`${prefix}:cluster:{prod-eu}:status`]: "string",
      [`${prefix}:{dirty}:due`]: "zset",
      [`${prefix}:{dirty}:marks`]: "hash",
      [`${prefix}:{dirty}:sequence`]: "string",
      [`${prefix}:{leader}:epoch`]: "string",
      [`${prefix}:{leader}:lease`]: "hash",
      [`${prefix}:{leader}:shard-map`]: "string",
      [`${prefix}:{members}:expiry`]: "zset",
      [`${prefix}:{members}:info`]: "hash",
      [`${prefix}:{status}:clusters`]: "set",
    });
    expect(Object.keys(ttls).filter((key) => ttls[key])).toEqual([
      `${prefix}:bucket:{cluster:prod-eu}`,
      `${prefix}:{leader}:lease`,
      `${prefix}:{members}:expiry`,
      `${prefix}:{members}:info`,
    ]);
    const keysOf = createRedisKeys(prefix);
    expect(await redis.hget(keysOf.snapshot("prod-eu"), "u")).toBeNull();
  });

  it("lets Redis measure the lease: the key expires after the TTL it was given", async () => {
    await state.acquireOrRenew("leader-1", 15_000);
    const pttl = await redis.pttl(createRedisKeys(prefix).lease);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(15_000);
  });

  it("marks a change again when the watcher died between storing and marking it", async () => {
    const snapshot = makeRealisticSnapshot({ nodes: 10 });
    const { bytes, hash } = encodeSnapshot(snapshot);
    // What publishSnapshot's first step leaves behind when the process dies right after it.
    await runScript(
      redis,
      PUBLISH_SNAPSHOT,
      [createRedisKeys(prefix).snapshot("c1")],
      [hash, bytes, "w1", "1", ""],
    );
    expect(await state.takeDirty(10)).toEqual([]);

    const again = await state.publishSnapshot("c1", snapshot, { watcher: "w1", observedAt: 2 });

    expect(again.changed).toBe(true);
    expect((await state.takeDirty(10)).map((e) => e.cluster)).toEqual(["c1"]);
    const repeat = await state.publishSnapshot("c1", snapshot, { watcher: "w1", observedAt: 3 });
    expect(repeat.changed).toBe(false);
  });

  it("reloads its scripts after Redis forgot them", async () => {
    await state.markDirty("c1", { reason: "Resync" });
    await redis.script("FLUSH");
    await state.markDirty("c1", { reason: "Resync" });
    expect(await state.takeDirty(10)).toMatchObject([{ cluster: "c1", marks: 2 }]);
  });

  it("reports data it cannot read as Corrupt", async () => {
    await redis.hset(createRedisKeys(prefix).snapshot("c1"), {
      d: "not deflate",
      h: "x",
      w: "w",
      o: "1",
    });
    await expect(state.readSnapshot("c1")).rejects.toMatchObject({ code: "Corrupt" });
  });

  it("maps an error reply of this ioredis version to ServerError", async () => {
    const error: unknown = await redis.call("NO-SUCH-COMMAND").catch((err: unknown) => err);
    expect(toFleetStateError(error, "call")).toMatchObject({
      code: "ServerError",
      retryable: false,
    });
  });

  it("reports an unreachable Redis as retryable Unavailable", async () => {
    const down = new Redis({
      port: 1,
      host: "127.0.0.1",
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    const error: unknown = await createRedisFleetState(down, { prefix })
      .markDirty("c1", { reason: "Resync" })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(FleetStateError);
    expect(error).toMatchObject({ code: "Unavailable", retryable: true });
    down.disconnect();
  });
});
