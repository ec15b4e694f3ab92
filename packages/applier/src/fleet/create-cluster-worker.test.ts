import { createMemoryFleetState, systemClock, type FleetState } from "@rrfleet/fleet-state";
import { describe, expect, it } from "vitest";
import {
  makeFakeLeaderDeps,
  makeFakeMember,
  silentLogger,
  waitUntil,
} from "../testing/fake-fleet.js";
import { createClusterWorker } from "./create-cluster-worker.js";
import { campaignForLeadership } from "./leader-election.js";

const timing = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 200 };

describe("createClusterWorker", () => {
  it("logs and counts a failed ack and a failed delayed re-mark instead of dropping them", async () => {
    const memory = createMemoryFleetState({ clock: systemClock, dirtyTakeTimeoutMs: 50 });
    const state: FleetState = {
      ...memory,
      ackDirty: () => Promise.reject(new Error("redis: connection lost")),
      markDirty: () => Promise.reject(new Error("redis: connection lost")),
    };
    const member = makeFakeMember("east");
    const warnings: string[] = [];
    const logger = {
      ...silentLogger,
      warn: (_fields: object, message: string) => {
        warnings.push(message);
      },
      child: () => logger,
    };
    const base = makeFakeLeaderDeps(state, [member]);
    const deps = {
      ...base,
      logger,
      // The cluster cannot be reached: the pass fails, is retried after 1–2 ms, and acked.
      openCluster: () => Promise.reject(new Error("connect ECONNREFUSED 10.0.0.1:6443")),
      settings: { ...base.settings, backoff: { initialMs: 1, maxMs: 2 } },
    };
    const stop = new AbortController();
    const leadership = await campaignForLeadership(
      { lease: memory, candidateId: "a", timing, clock: systemClock, logger: silentLogger },
      stop.signal,
    );
    await memory.publishSnapshot("east", member.fake.state(), { watcher: "w1", observedAt: 1 });
    await memory.markDirty("east", { reason: "Resync" });
    const [entry] = await memory.takeDirty(1);
    if (entry === undefined) throw new Error("no dirty entry");
    const worker = createClusterWorker(deps, leadership, () => undefined, {
      nodeCounts: new Map(),
      statusHistory: new Map(),
    });
    const count = async (operation: string): Promise<number> => {
      const values = (await deps.fleetMetrics.backgroundErrors.get()).values;
      return values.find((v) => v.labels.operation === operation)?.value ?? 0;
    };

    await worker.handle(entry, stop.signal);
    await waitUntil(async () => (await count("markDirty")) === 1);
    await worker.idle();
    stop.abort();
    await leadership.release();

    expect(await count("ackDirty")).toBe(1);
    expect(warnings).toEqual(
      expect.arrayContaining([
        "could not acknowledge the dirty entry; it is delivered again after its visibility timeout",
        "could not mark the cluster dirty again; the periodic resync plans it",
      ]),
    );
  });
});
