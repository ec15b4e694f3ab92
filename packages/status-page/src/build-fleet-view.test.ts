import type { ClusterStatus } from "@rrfleet/fleet-state";
import { describe, expect, it } from "vitest";
import { buildFleetView } from "./build-fleet-view.js";

const NOW = 1_780_000_000_000;

describe("buildFleetView", () => {
  const statuses: Record<string, ClusterStatus> = {
    converged: {
      phase: "Converged",
      reason: "Converged",
      message: "3 route reflectors",
      updatedAt: NOW - 5_000,
      nodes: 300,
      reflectors: 3,
      pendingSteps: 0,
      pendingActions: 0,
      lastStep: { reason: "DeleteOrphanPeers", message: "delete", at: NOW - 600_000 },
      convergedSince: NOW - 125_000,
      lastConvergedAt: NOW - 5_000,
    },
    failing: {
      phase: "Failing",
      reason: "Forbidden",
      message: "403 patch nodes",
      updatedAt: NOW - 1_000,
      failures: 3,
      lastError: { reason: "Forbidden", message: "403 patch nodes", at: NOW - 1_000 },
      lastConvergedAt: NOW - 3_600_000,
    },
    gone: { phase: "Progressing", reason: "AddClientPeerings", message: "", updatedAt: NOW + 900 },
  };

  it("has one row per registered cluster and per leftover status, sorted by name", () => {
    const view = buildFleetView(["failing", "new", "converged"], statuses, NOW);
    expect(view.clusters.map((c) => [c.name, c.phase, c.registered])).toEqual([
      ["converged", "Converged", true],
      ["failing", "Failing", true],
      ["gone", "Progressing", false],
      ["new", "Unknown", true],
    ]);
    expect(view.phases).toEqual({
      Converged: 1,
      Progressing: 1,
      Blocked: 0,
      Failing: 1,
      Unknown: 1,
    });
  });

  const rows: { name: string; cluster: string; want: Record<string, unknown> }[] = [
    {
      name: "a converged cluster: how long, its last step, nothing pending",
      cluster: "converged",
      want: {
        nodes: 300,
        reflectors: 3,
        pendingActions: 0,
        failures: 0,
        convergedForSeconds: 125,
        lastStep: { reason: "DeleteOrphanPeers", message: "delete", agoSeconds: 600 },
        updatedAgoSeconds: 5,
      },
    },
    {
      name: "a failing cluster: failures in a row, the error, when it was last converged",
      cluster: "failing",
      want: {
        failures: 3,
        lastError: { reason: "Forbidden", message: "403 patch nodes", agoSeconds: 1 },
        lastConvergedAgoSeconds: 3600,
      },
    },
    {
      name: "a status from a clock ahead of ours is 0 s old, not negative",
      cluster: "gone",
      want: { updatedAgoSeconds: 0, failures: 0 },
    },
    {
      name: "a cluster without a status yet",
      cluster: "new",
      want: { reason: "NoStatusYet", failures: 0 },
    },
  ];
  it.each(rows)("$name", ({ cluster, want }) => {
    const row = buildFleetView(["failing", "new", "converged"], statuses, NOW).clusters.find(
      (c) => c.name === cluster,
    );
    expect(row).toMatchObject(want);
  });

  it("leaves out what it does not know instead of inventing it", () => {
    const row = buildFleetView(["new"], {}, NOW).clusters[0];
    expect(row).not.toHaveProperty("convergedForSeconds");
    expect(row).not.toHaveProperty("lastConvergedAgoSeconds");
    expect(row).not.toHaveProperty("lastStep");
  });
});
