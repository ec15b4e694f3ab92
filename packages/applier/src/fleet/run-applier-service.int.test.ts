/**
 * Two applier services on a real redis-server (started here), over in-memory clusters: one
 * leads and converges the fleet; when it stops mid-plan the standby takes over with a higher
 * epoch, requeues what the first had taken, and finishes; no write of the first comes after any
 * write of the second.
 */
import { connectRedis, createRedisFleetState, type FleetState } from "@rrfleet/fleet-state";
import { startRedisServer, type RedisServer } from "@rrfleet/fleet-state/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  isConverged,
  makeFakeLeaderDeps,
  makeFakeMember,
  startFakeWatchers,
  waitForConverged,
  waitUntil,
} from "../testing/fake-fleet.js";
import { runApplierService } from "./run-applier-service.js";

const timing = { leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 200 };

let server: RedisServer;
const clients: Awaited<ReturnType<typeof connectRedis>>[] = [];

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await server.stop();
});

async function connect(): Promise<FleetState> {
  const redis = await connectRedis(server.url);
  clients.push(redis);
  return createRedisFleetState(redis, { prefix: "int", dirtyTakeTimeoutMs: 100 });
}

describe("runApplierService on Redis", () => {
  it("hands over mid-plan to the standby, which finishes with a higher epoch", async () => {
    const state = await connect();
    const members = ["east", "west", "north"].map((name) => makeFakeMember(name, 40));
    const stopPublishing = startFakeWatchers(state, members);
    const service = async (candidateId: string) => ({
      ...makeFakeLeaderDeps(await connect(), members, { applier: candidateId, writeDelayMs: 5 }),
      lease: state,
      candidateId,
      timing,
    });
    const stopA = new AbortController();
    const stopB = new AbortController();

    const a = runApplierService(await service("a"), stopA.signal);
    await waitUntil(() => members.some((m) => m.writes.length >= 3));
    const b = runApplierService(await service("b"), stopB.signal);
    stopA.abort();
    expect(await a).toEqual({ kind: "Stopped" });
    await waitForConverged(state, members);
    stopB.abort();
    expect(await b).toEqual({ kind: "Stopped" });
    stopPublishing();

    const all = members.flatMap((m) => m.writes);
    const epochA = all.find((w) => w.applier === "a")?.epoch ?? Infinity;
    const epochB = all.find((w) => w.applier === "b")?.epoch ?? -Infinity;
    expect(epochB).toBeGreaterThan(epochA);
    for (const member of members) {
      const firstOfB = member.writes.findIndex((w) => w.applier === "b");
      const afterB = firstOfB < 0 ? [] : member.writes.slice(firstOfB);
      expect(afterB.every((w) => w.applier === "b")).toBe(true);
      expect(isConverged(member.fake.state())).toBe(true);
    }
  });
});
