import { describe, expect, it } from "vitest";
import {
  checkLeaseTiming,
  DEFAULT_LEASE_TIMING,
  LEASE_DURATION_MS,
  RENEW_DEADLINE_MS,
  RETRY_PERIOD_MS,
  type LeaseTiming,
} from "./check-lease-timing.js";

describe("checkLeaseTiming", () => {
  it("uses client-go's defaults: 15 s / 10 s / 2 s", () => {
    expect([LEASE_DURATION_MS, RENEW_DEADLINE_MS, RETRY_PERIOD_MS]).toEqual([
      15_000, 10_000, 2_000,
    ]);
    expect(DEFAULT_LEASE_TIMING).toEqual({
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
  });

  const rows: { name: string; timing: LeaseTiming; wantProblems: string[] }[] = [
    { name: "the defaults are safe", timing: DEFAULT_LEASE_TIMING, wantProblems: [] },
    {
      name: "a renew deadline as long as the lease lets a new leader start before the old stops",
      timing: { leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
      wantProblems: ["leaseDurationMs (10000) must exceed renewDeadlineMs (10000)"],
    },
    {
      name: "a renew deadline of exactly 1.2 retry periods may pass without a renewal attempt",
      timing: { leaseDurationMs: 15_000, renewDeadlineMs: 2_400, retryPeriodMs: 2_000 },
      wantProblems: ["renewDeadlineMs (2400) must exceed 1.2 × retryPeriodMs (2000)"],
    },
    {
      name: "both rules broken are both reported",
      timing: { leaseDurationMs: 1_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 },
      wantProblems: ["leaseDurationMs (1000)", "renewDeadlineMs (2000)"],
    },
    {
      name: "a zero or non-numeric duration is reported by field",
      timing: { leaseDurationMs: Number.NaN, renewDeadlineMs: 10_000, retryPeriodMs: 0 },
      wantProblems: [
        "leaseDurationMs must be a finite number",
        "retryPeriodMs must be a finite number",
      ],
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const problems = checkLeaseTiming(row.timing);
      expect(problems).toHaveLength(row.wantProblems.length);
      row.wantProblems.forEach((want, i) => {
        expect(problems[i]).toContain(want);
      });
    });
  }
});
