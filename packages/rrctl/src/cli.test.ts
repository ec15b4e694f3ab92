import { describe, expect, it } from "vitest";
import { ROOT_USAGE } from "./cli.js";
import { PLAN_USAGE } from "./plan-command.js";
import { runFakeCli } from "./testing/fake-io.js";
import { makeListJson, makeNodeObjects } from "./testing/kube-objects.js";

describe("runCli", () => {
  const helpCases = [
    { name: "--help", argv: ["--help"], want: ROOT_USAGE },
    { name: "-h", argv: ["-h"], want: ROOT_USAGE },
    { name: "help", argv: ["help"], want: ROOT_USAGE },
    { name: "help plan", argv: ["help", "plan"], want: PLAN_USAGE },
    { name: "--help plan", argv: ["--help", "plan"], want: PLAN_USAGE },
    { name: "plan -h", argv: ["plan", "-h"], want: PLAN_USAGE },
  ];
  it.each(helpCases)("prints usage on stdout and exits 0 for $name", async ({ argv, want }) => {
    const run = await runFakeCli(argv);
    expect(run).toEqual({ code: 0, stdout: want, stderr: "" });
  });

  it("prints the usage on stderr and exits 2 when no command is given", async () => {
    const run = await runFakeCli([]);
    expect(run).toEqual({ code: 2, stdout: "", stderr: ROOT_USAGE });
  });

  const usageErrors = [
    {
      name: "an unknown command",
      argv: ["apply", "--nodes", "x"],
      want: 'rrctl: unknown command "apply" (commands: plan, explain, run, status)\nRun "rrctl --help" for usage.\n',
    },
    {
      name: "help for an unknown command",
      argv: ["help", "apply"],
      want: 'rrctl: unknown command "apply" (commands: plan, explain, run, status)\nRun "rrctl --help" for usage.\n',
    },
    {
      name: "an unknown option before the command",
      argv: ["--verbose", "plan"],
      want: 'rrctl: unknown option "--verbose"\nRun "rrctl --help" for usage.\n',
    },
    {
      name: "a command-less option that is not --help",
      argv: ["--", "plan"],
      want: 'rrctl: missing command\nRun "rrctl --help" for usage.\n',
    },
  ];
  it.each(usageErrors)(
    "exits 2 with one message and nothing on stdout for $name",
    async ({ argv, want }) => {
      const run = await runFakeCli(argv);
      expect(run).toEqual({ code: 2, stdout: "", stderr: want });
    },
  );

  const files = { "nodes.json": makeListJson(makeNodeObjects(3)) };
  const broken = () => {
    throw new Error("clock exploded\nsecond line");
  };

  it("reports an internal error in one line, without a stack, and exits 1", async () => {
    const run = await runFakeCli(["plan", "--nodes", "nodes.json"], { files, now: broken });
    expect(run).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "rrctl plan: internal error: clock exploded (set RRFLEET_DEBUG=1 to see the stack trace)\n",
    });
  });

  it("adds the stack trace of an internal error in debug mode", async () => {
    const run = await runFakeCli(["plan", "--nodes", "nodes.json"], {
      files,
      now: broken,
      debug: true,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^rrctl plan: internal error: clock exploded\nError: clock exploded/,
    );
    expect(run.stderr).toMatch(/^\s+at /m);
  });
});
