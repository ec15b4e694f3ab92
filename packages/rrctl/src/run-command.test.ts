import { DEFAULT_POLICY } from "@rrfleet/topology-core";
import { describe, expect, it } from "vitest";
import type { RunOptions } from "./run-command.js";
import { runFakeCli } from "./testing/fake-io.js";

/** Runs `rrctl run ARGS` and returns the options the controller got (undefined: not started). */
async function runWith(args: readonly string[], files: Record<string, string> = {}) {
  let started: RunOptions | undefined;
  const result = await runFakeCli(["run", ...args], {
    files,
    runController: (options) => {
      started = options;
      return Promise.resolve();
    },
  });
  return { ...result, started };
}

describe("rrctl run", () => {
  it("starts the controller with safe defaults for the current context", async () => {
    const { code, stdout, stderr, started } = await runWith([]);
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(started).toEqual({
      contexts: [],
      policy: DEFAULT_POLICY,
      dryRun: false,
      listenHost: "127.0.0.1",
      listenPort: 9464,
      sessionCheck: "calico-node-status",
      switchoverDelayMs: 10_000,
      sessionTimeoutMs: 120_000,
      qps: 20,
      burst: 40,
      resyncMs: 30_000,
      logLevel: "info",
      statusPage: true,
    });
  });

  it("manages every --context given, with the kubeconfig, policy and knobs", async () => {
    const { code, started } = await runWith(
      [
        "--kubeconfig",
        "k.yaml",
        "--context",
        "east",
        "--context",
        "west",
        "--policy",
        "p.yaml",
        "--dry-run",
        "--listen",
        ":0",
        "--session-check",
        "delay",
        "--switchover-delay-seconds",
        "0.5",
        "--qps",
        "50",
        "--burst",
        "100",
        "--log-level",
        "debug",
        "--no-status-page",
      ],
      { "p.yaml": "topology: zoned\nmin: 4\n" },
    );
    expect(code).toBe(0);
    expect(started).toMatchObject({
      kubeconfigPath: "k.yaml",
      contexts: ["east", "west"],
      policy: { topology: "zoned", min: 4 },
      dryRun: true,
      listenHost: "0.0.0.0",
      listenPort: 0,
      sessionCheck: "delay",
      switchoverDelayMs: 500,
      qps: 50,
      burst: 100,
      logLevel: "debug",
      statusPage: false,
    });
  });

  it.each([
    {
      name: "a negative rate",
      args: ["--qps=-1"],
      want: /--qps: must be a number >= 0.01 \(got "-1"\)/,
    },
    {
      name: "a rate that is not a number",
      args: ["--qps", "fast"],
      want: /--qps: must be a number/,
    },
    { name: "a burst below one", args: ["--burst", "0"], want: /--burst: must be a number >= 1/ },
    {
      name: "a value given to the status page switch",
      args: ["--no-status-page=yes"],
      want: /--no-status-page does not take a value/,
    },
    {
      name: "an unknown session check",
      args: ["--session-check", "bfd"],
      want: /--session-check: must be "calico-node-status" or "delay" \(got "bfd"\)/,
    },
    {
      name: "a port out of range",
      args: ["--listen", "127.0.0.1:70000"],
      want: /--listen: must be HOST:PORT/,
    },
    {
      name: "an address without a port",
      args: ["--listen", "localhost"],
      want: /--listen: must be HOST:PORT/,
    },
    {
      name: "an unknown log level",
      args: ["--log-level", "loud"],
      want: /--log-level: must be one of/,
    },
    {
      name: "the same context twice",
      args: ["--context", "a", "--context", "a"],
      want: /--context a given more than once/,
    },
    { name: "an empty context", args: ["--context", ""], want: /--context needs a name/ },
    {
      name: "a resync of zero",
      args: ["--resync-seconds", "0"],
      want: /--resync-seconds: must be a number >= 1/,
    },
    {
      name: "a misspelt flag",
      args: ["--dryrun"],
      want: /unknown option "--dryrun" \(did you mean --dry-run\?\)/,
    },
  ])(
    "rejects $name with exit 2, naming the flag, before starting anything",
    async ({ args, want }) => {
      const { code, stdout, stderr, started } = await runWith(args);
      expect(code).toBe(2);
      expect(stdout).toBe("");
      expect(stderr).toMatch(want);
      expect(started).toBeUndefined();
    },
  );

  it("rejects a bad policy file with its field path, before starting anything", async () => {
    const { code, stderr, started } = await runWith(["--policy", "p.yaml"], {
      "p.yaml": "ratio: -1\n",
    });
    expect(code).toBe(2);
    expect(stderr).toMatch(/--policy p\.yaml: ratio/);
    expect(started).toBeUndefined();
  });

  it("prints its usage with --help and does not start", async () => {
    const { code, stdout, started } = await runWith(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: rrctl run/);
    expect(started).toBeUndefined();
  });
});
