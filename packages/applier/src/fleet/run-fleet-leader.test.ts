import { createMemoryFleetState, systemClock, type FleetState } from "@rrfleet/fleet-state";
import { findLostRoutes, findMissingRoutes, viewRoutes } from "@rrfleet/topology-core";
import { describe, expect, it } from "vitest";
import {
  isConverged,
  makeFakeLeaderDeps,
  makeFakeMember,
  silentLogger,
  startFakeWatchers,
  waitForConverged,
  waitUntil,
  type FakeMember,
} from "../testing/fake-fleet.js";
import { campaignForLeadership, type Leadership } from "./leader-election.js";
import { runApplierService } from "./run-applier-service.js";
import { highestEpochIn } from "./highest-epoch-in.js";
import { runFleetLeader } from "./run-fleet-leader.js";

const timing = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 200 };

function newState(): FleetState {
  return createMemoryFleetState({ clock: systemClock, dirtyTakeTimeoutMs: 50 });
}

function lead(state: FleetState, signal = new AbortController().signal): Promise<Leadership> {
  return campaignForLeadership(
    { lease: state, candidateId: "a", timing, clock: systemClock, logger: silentLogger },
    signal,
  );
}

/** A member one of whose nodes was last written by leader epoch 50. */
function memberWrittenAtEpoch50(): FakeMember {
  const member = makeFakeMember("east");
  member.fake.mutate((s) => ({
    ...s,
    nodes: s.nodes.map((n, i) => (i === 0 ? { ...n, fencingEpoch: 50 } : n)),
  }));
  return member;
}

describe("runFleetLeader", () => {
  it("converges every cluster from its published snapshot, fencing every write with its epoch", async () => {
    const state = newState();
    const members = [makeFakeMember("east"), makeFakeMember("west", 20)];
    const stopWatchers = startFakeWatchers(state, members);
    const stop = new AbortController();
    const leadership = await lead(state, stop.signal);

    const running = runFleetLeader(makeFakeLeaderDeps(state, members), leadership, stop.signal);
    await waitForConverged(state, members);
    stop.abort();
    await running;
    stopWatchers();

    for (const member of members) {
      expect(isConverged(member.fake.state())).toBe(true);
      expect(member.fake.state().bgpConfiguration.nodeToNodeMeshEnabled).toBe(false);
      expect(member.writes.length).toBeGreaterThan(0);
      expect(new Set(member.writes.map((w) => w.epoch))).toEqual(new Set([leadership.epoch]));
      // The session check writes too (CalicoNodeStatus objects): fenced by the same lease.
      expect(new Set(member.sessionEpochs)).toEqual(new Set([leadership.epoch]));
      // No write lost a route between nodes that had one.
      const lost = member.fake.history
        .slice(1)
        .reduce(
          (sum, after, i) =>
            sum +
            findLostRoutes(viewRoutes(member.fake.history[i] ?? after), viewRoutes(after)).pairs,
          0,
        );
      expect(lost).toBe(0);
      expect(findMissingRoutes(viewRoutes(member.fake.state())).pairs).toBe(0);
    }
    const statuses = await state.readStatuses();
    expect(statuses["east"]).toMatchObject({ leaderEpoch: leadership.epoch, nodes: 12 });
    // The status page's columns: the history is carried into the converged status.
    expect(statuses["east"]).toMatchObject({
      phase: "Converged",
      pendingActions: 0,
      lastStep: { reason: "DisableNodeMesh" },
      convergedSince: expect.any(Number) as number,
    });
    expect(statuses["east"]?.lastConvergedAt).toBe(statuses["east"]?.updatedAt);
  });

  it("publishes a shard map over the live watchers, and counts orphans when there are none", async () => {
    const state = newState();
    const members = [makeFakeMember("east"), makeFakeMember("west")];
    const deps = makeFakeLeaderDeps(state, members);
    const stop = new AbortController();
    const leadership = await lead(state, stop.signal);
    const orphans = async () => (await deps.fleetMetrics.orphanedClusters.get()).values[0]?.value;

    const running = runFleetLeader(deps, leadership, stop.signal);
    await waitUntil(async () => (await orphans()) === 2);
    await state.heartbeat("w1", { ttlMs: 10_000 });
    await state.heartbeat("w2", { ttlMs: 10_000 });
    await waitUntil(
      async () => Object.keys((await state.readShardMap())?.assignments ?? {}).length === 2,
    );
    stop.abort();
    await running;

    const map = await state.readShardMap();
    expect(Object.keys(map?.assignments ?? {}).sort()).toEqual(["east", "west"]);
    expect(new Set(Object.values(map?.assignments ?? {}))).toEqual(new Set(["w1", "w2"]));
    expect(map).toMatchObject({ publishedBy: "a", leaderEpoch: leadership.epoch });
    expect(await orphans()).toBe(0);
  });

  it("writes nothing when a cluster carries a newer epoch than its own, and reports how far behind it is", async () => {
    const state = newState();
    const member = memberWrittenAtEpoch50();
    const stopWatchers = startFakeWatchers(state, [member]);
    await waitUntil(async () => (await state.readSnapshot("east")) !== undefined);
    const leadership = await lead(state);

    const end = await runFleetLeader(
      makeFakeLeaderDeps(state, [member]),
      leadership,
      new AbortController().signal,
    );
    stopWatchers();
    await leadership.release();

    expect(end).toEqual({ kind: "EpochBehind", highestEpoch: 50, cluster: "east" });
    expect(member.writes).toEqual([]);
  });

  it("sends no write after its leadership ends mid-plan", async () => {
    const state = newState();
    const member = makeFakeMember("east", 30);
    const stopWatchers = startFakeWatchers(state, [member]);
    const leadership = await lead(state);
    let writesAtRelease = -1;
    member.fake.beforeWrite = () => {
      if (member.writes.length === 3 && writesAtRelease < 0) {
        writesAtRelease = member.writes.length;
        void leadership.release();
      }
    };

    const end = await runFleetLeader(
      makeFakeLeaderDeps(state, [member]),
      leadership,
      new AbortController().signal,
    );
    stopWatchers();

    expect(end.kind).toBe("LeadershipEnded");
    // The write in flight when it ended completes; none starts after.
    expect(member.writes.length).toBeLessThanOrEqual(writesAtRelease + 1);
    expect(isConverged(member.fake.state())).toBe(false);
  });
});

describe("runApplierService", () => {
  it("gives the lease back and wins it again above the highest epoch in the fleet, then converges", async () => {
    const state = newState();
    const member = memberWrittenAtEpoch50();
    const stopWatchers = startFakeWatchers(state, [member]);
    await waitUntil(async () => (await state.readSnapshot("east")) !== undefined);
    const stop = new AbortController();

    const running = runApplierService(
      { ...makeFakeLeaderDeps(state, [member]), lease: state, candidateId: "a", timing },
      stop.signal,
    );
    await waitForConverged(state, [member]);
    stop.abort();
    const exit = await running;
    stopWatchers();

    expect(exit).toEqual({ kind: "Stopped" });
    expect(new Set(member.writes.map((w) => w.epoch))).toEqual(new Set([51]));
    expect(highestEpochIn(member.fake.state())).toBe(50);
    // Stopping released the lease: another candidate gets it at once.
    expect((await state.acquireOrRenew("b", 1_000)).held).toBe(true);
  });
});
