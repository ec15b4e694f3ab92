import {
  createMemoryFleetState,
  systemClock,
  type FleetState,
  type PublishedShardMap,
} from "@rrfleet/fleet-state";
import { describe, expect, it } from "vitest";
import { makeFakeLeaderDeps, makeFakeMember, silentLogger } from "../testing/fake-fleet.js";
import { campaignForLeadership } from "./leader-election.js";
import { publishShardMap } from "./publish-shard-map.js";

const timing = { leaseDurationMs: 60_000, renewDeadlineMs: 40_000, retryPeriodMs: 10_000 };

describe("publishShardMap", () => {
  it("publishes above every epoch of its own term, even when the stored map went back to an older one", async () => {
    const memory = createMemoryFleetState({ clock: systemClock });
    let stored: PublishedShardMap | undefined;
    const published: PublishedShardMap[] = [];
    // A store that can be made to go back in time (restored from an older snapshot).
    const state: FleetState = {
      ...memory,
      readShardMap: () => Promise.resolve(stored),
      publishShardMap: async (map, fencing) => {
        await memory.publishShardMap(map, fencing);
        stored = { ...map, publishedBy: fencing.holder, leaderEpoch: fencing.epoch };
        published.push(stored);
      },
    };
    const deps = makeFakeLeaderDeps(state, [makeFakeMember("east"), makeFakeMember("west")]);
    const stop = new AbortController();
    const leadership = await campaignForLeadership(
      { lease: memory, candidateId: "b", timing, clock: systemClock, logger: silentLogger },
      stop.signal,
    );
    await memory.heartbeat("w1", { ttlMs: 60_000 });
    const term = { lastOrphans: "", lastPublishedEpoch: 0 };
    stored = { publishedBy: "b", leaderEpoch: leadership.epoch, epoch: 7, assignments: {} };

    await publishShardMap(deps, leadership, new Map(), term);
    stored = {
      publishedBy: "a",
      leaderEpoch: leadership.epoch - 1,
      epoch: 2,
      assignments: { east: "w9" },
    };
    await publishShardMap(deps, leadership, new Map(), term);
    stop.abort();
    await leadership.release();

    expect(published.map((m) => [m.publishedBy, m.leaderEpoch, m.epoch])).toEqual([
      ["b", leadership.epoch, 8],
      ["b", leadership.epoch, 9],
    ]);
  });
});
