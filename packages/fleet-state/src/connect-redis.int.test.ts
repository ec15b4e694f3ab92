import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis } from "./connect-redis.js";
import { createRedisFleetState } from "./create-redis-fleet-state.js";
import { findFreePort, startRedisServer, type RedisServer } from "./testing/start-redis-server.js";

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server.stop();
});

describe("connectRedis", () => {
  it("resolves a ready client for a fleet state", async () => {
    const redis = await connectRedis(server.url);
    try {
      expect(redis.status).toBe("ready");
      const state = createRedisFleetState(redis, { prefix: "connect-test" });
      await state.markDirty("c1", { reason: "Resync" });
      expect(await state.countDirty()).toBe(1);
    } finally {
      redis.disconnect();
    }
  });

  it("refuses a URL of another scheme, naming the scheme", async () => {
    await expect(connectRedis("http://127.0.0.1:6379")).rejects.toMatchObject({
      code: "Invalid",
      message: 'REDIS_URL: must be a redis:// or rediss:// URL, got scheme "http:"',
    });
  });

  it("never echoes the password of a URL it refuses", async () => {
    for (const url of ["http://user:s3cret@127.0.0.1:6379", "redis://user:s3cret@", "s3cret"]) {
      const err = await connectRedis(url).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "Invalid" });
      expect((err as Error).message).not.toContain("s3cret");
    }
  });

  it("rejects with a retryable Unavailable, naming the URL without its password, when nothing listens", async () => {
    const port = await findFreePort();
    const err = await connectRedis(`redis://user:secret@127.0.0.1:${port}`, {
      connectTimeoutMs: 500,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "Unavailable", retryable: true });
    expect((err as Error).message).toContain(`redis://user@127.0.0.1:${port}`);
    expect((err as Error).message).not.toContain("secret");
  });
});
