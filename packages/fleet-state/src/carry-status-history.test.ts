import { describe, expect, it } from "vitest";
import { carryStatusHistory } from "./carry-status-history.js";
import type { ClusterStatus } from "./status-store.js";

const at = (updatedAt: number, phase: ClusterStatus["phase"], extra: Partial<ClusterStatus> = {}) =>
  ({ phase, reason: phase, message: "", updatedAt, ...extra }) satisfies ClusterStatus;

describe("carryStatusHistory", () => {
  const rows: {
    name: string;
    previous: ClusterStatus | undefined;
    next: ClusterStatus;
    want: Partial<ClusterStatus>;
    wantAbsent?: (keyof ClusterStatus)[];
  }[] = [
    {
      name: "a first Converged pass starts the converged run at its own time",
      previous: undefined,
      next: at(100, "Converged"),
      want: { convergedSince: 100, lastConvergedAt: 100 },
      wantAbsent: ["lastStep", "lastError"],
    },
    {
      name: "a second Converged pass keeps when the run began",
      previous: at(100, "Converged", { convergedSince: 40, lastConvergedAt: 100 }),
      next: at(200, "Converged"),
      want: { convergedSince: 40, lastConvergedAt: 200 },
    },
    {
      name: "leaving Converged ends the run but remembers when it was last converged",
      previous: at(100, "Converged", { convergedSince: 40, lastConvergedAt: 100 }),
      next: at(200, "Progressing", {
        lastStep: { reason: "PromoteReflectors", message: "promote", at: 200 },
      }),
      want: {
        lastConvergedAt: 100,
        lastStep: { reason: "PromoteReflectors", message: "promote", at: 200 },
      },
      wantAbsent: ["convergedSince"],
    },
    {
      name: "a failure keeps the last step, and the next success keeps the last error",
      previous: at(200, "Failing", {
        lastStep: { reason: "PromoteReflectors", message: "promote", at: 150 },
        lastError: { reason: "Conflict", message: "409", at: 200 },
        failures: 1,
      }),
      next: at(300, "Progressing"),
      want: {
        lastStep: { reason: "PromoteReflectors", message: "promote", at: 150 },
        lastError: { reason: "Conflict", message: "409", at: 200 },
      },
      wantAbsent: ["failures", "convergedSince", "lastConvergedAt"],
    },
  ];
  it.each(rows)("$name", ({ previous, next, want, wantAbsent }) => {
    const carried = carryStatusHistory(previous, next);
    expect(carried).toMatchObject({ ...next, ...want });
    for (const field of wantAbsent ?? []) expect(carried).not.toHaveProperty(field);
  });
});
