import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { findOldNode } from "@rrfleet/telemetry/testing";
import { describe, expect, it } from "vitest";

// End to end through the compiled binary: the package's `test` script builds dist/ first.
const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));
const SAMPLE = fileURLToPath(new URL("../../../examples/sample-cluster/", import.meta.url));

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runNode(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  node: string = process.execPath,
): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, args, {
      cwd: PACKAGE_DIR,
      env: { ...process.env, RRFLEET_DEBUG: "", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

const SAMPLE_ARGS = [
  "plan",
  "--nodes",
  `${SAMPLE}nodes.json`,
  "--bgppeers",
  `${SAMPLE}bgppeers.json`,
  "--bgpconfigurations",
  `${SAMPLE}bgpconfigurations.json`,
  "--policy",
  `${SAMPLE}policy.yaml`,
  "--now",
  "2026-11-28T00:00:00Z",
];

describe("the rrctl binary", () => {
  it("plans the sample cluster as text: three reflectors, one per zone, verdict Safe", async () => {
    const run = await runNode(["dist/main.js", ...SAMPLE_ARGS]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Plan: multi topology, 120 nodes \(117 Ready, 111 eligible/);
    for (const zone of ["eu-west-1a", "eu-west-1b", "eu-west-1c"]) {
      expect(run.stdout).toMatch(new RegExp(`compute\\.internal  ${zone}  `));
    }
    expect(run.stdout).toContain("\nAnalysis: Safe ");
  });

  it("plans the sample cluster as JSON, the same bytes on every run", async () => {
    const first = await runNode(["dist/main.js", ...SAMPLE_ARGS, "--output", "json"]);
    const second = await runNode(["dist/main.js", ...SAMPLE_ARGS, "--output", "json"]);
    expect(first.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const plan = JSON.parse(first.stdout) as { routeReflectors: { zone: string }[] };
    expect(plan.routeReflectors.map((r) => r.zone)).toEqual([
      "eu-west-1a",
      "eu-west-1b",
      "eu-west-1c",
    ]);
  });

  it("exits 2 on bad input with one message on stderr, nothing on stdout, no stack trace", async () => {
    const run = await runNode(["dist/main.js", "plan", "--nodes", `${SAMPLE}policy.yaml`]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^rrctl plan: --nodes .*policy\.yaml: not valid JSON \(/);
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("runs through the bin launcher npm links as `rrctl`", async () => {
    const run = await runNode(["bin/rrctl.js", "plan", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: rrctl plan --nodes FILE/);
  });

  it("does nothing when imported, so tests and the launcher can import main", async () => {
    const run = await runNode([
      "--input-type=module",
      "-e",
      'const m = await import("./dist/main.js"); console.log(typeof m.main);',
    ]);
    expect(run).toEqual({ code: 0, stdout: "function\n", stderr: "" });
  });

  const oldNode = findOldNode();
  it.skipIf(oldNode === undefined).each(["bin/rrctl.js", "dist/main.js"])(
    `refuses an old Node.js (${oldNode?.path ?? "none on this machine"}) in %s with one line and exit code 2`,
    async (entry) => {
      const run = await runNode([entry, ...SAMPLE_ARGS], {}, oldNode?.path ?? "");
      expect(run.stderr).toBe(
        `rrctl: needs Node.js 22.19.0 or newer, but runs on Node.js v${oldNode?.version ?? ""} (${oldNode?.path ?? ""}); use Node.js 24 (in the repository, npx and npm scripts put it first on PATH: node_modules/.bin/node)\n`,
      );
      expect(run.stdout).toBe("");
      expect(run.code).toBe(2);
    },
  );
});
