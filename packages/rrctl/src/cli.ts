import { redactUrlCredentials } from "@rrfleet/telemetry";
import { CliError, type CliErrorCode } from "./cli-error.js";
import { EXPLAIN_USAGE, runExplainCommand } from "./explain-command.js";
import { parseCommandLine } from "./parse-command-line.js";
import { PLAN_USAGE, runPlanCommand, type PlanCommandIo } from "./plan-command.js";
import { RUN_USAGE, runRunCommand, type RunCommandIo } from "./run-command.js";
import { STATUS_USAGE, runStatusCommand, type StatusCommandIo } from "./status-command.js";

/** Everything rrctl touches outside itself; `main` wires the real process, tests pass fakes. */
export interface CliIo extends PlanCommandIo, RunCommandIo, StatusCommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Print stack traces of internal errors (`RRFLEET_DEBUG=1`). Default false. */
  readonly debug?: boolean;
}

/** `rrctl --help`. */
export const ROOT_USAGE = `Usage: rrctl <command> [options]

Designs and keeps Calico BGP route-reflector topologies for Kubernetes clusters.

Commands:
  plan    plan a route-reflector topology for one cluster (kubectl JSON or live, read-only)
  explain why a node is or is not a route reflector, and whom it peers with (same input as plan)
  run     run the controller: keep clusters' route-reflector topologies converged
  status  show a fleet's leader, shard map, watchers and cluster statuses (from Redis)
  help    show help for a command ("rrctl help plan")

Run "rrctl <command> --help" for a command's options.
`;

/** A subcommand: its usage, and a run that returns what to print on stdout. */
interface CommandSpec {
  readonly usage: string;
  readonly run: (args: readonly string[], io: CliIo) => Promise<string>;
}

const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  plan: { usage: PLAN_USAGE, run: runPlanCommand },
  explain: { usage: EXPLAIN_USAGE, run: runExplainCommand },
  run: { usage: RUN_USAGE, run: runRunCommand },
  status: { usage: STATUS_USAGE, run: runStatusCommand },
};

/**
 * Runs one rrctl invocation (`argv` without node and script) and returns the exit status:
 * 0 done, 2 a user mistake (one message on stderr, nothing on stdout), 1 an internal error
 * (one line on stderr; the stack too when `io.debug`). Never throws.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let prefix = "rrctl";
  try {
    const [first, ...rest] = argv;
    if (first === undefined) {
      io.stderr(ROOT_USAGE);
      return 2;
    }
    if (first.startsWith("-")) {
      const { values, positionals } = parseCommandLine({
        args: [...argv],
        options: { help: { type: "boolean", short: "h" } },
        strict: true,
        tokens: true,
        allowPositionals: true,
      });
      if (values.help !== true) throw new CliError("UsageError", "missing command");
      io.stdout(describeUsage(positionals[0]));
      return 0;
    }
    if (first === "help") {
      io.stdout(describeUsage(rest[0]));
      return 0;
    }
    const command = findCommand(first);
    prefix = `rrctl ${first}`;
    io.stdout(await command.run(rest, io));
    return 0;
  } catch (err: unknown) {
    if (err instanceof CliError) {
      // A message may quote a URL (--redis-url, a cause from ioredis): never its password.
      io.stderr(`${prefix}: ${redactUrlCredentials(err.message)}\n`);
      if (err.code === "UsageError") io.stderr(`Run "${prefix} --help" for usage.\n`);
      return exitCodeOf(err.code);
    }
    const message = redactUrlCredentials(err instanceof Error ? err.message : String(err));
    io.stderr(
      `${prefix}: internal error: ${message.split("\n")[0] ?? ""}` +
        `${io.debug === true ? "" : " (set RRFLEET_DEBUG=1 to see the stack trace)"}\n`,
    );
    if (io.debug === true && err instanceof Error && err.stack !== undefined) {
      io.stderr(`${redactUrlCredentials(err.stack)}\n`);
    }
    return 1;
  }
}

function findCommand(name: string): CommandSpec {
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    const known = Object.keys(COMMANDS).join(", ");
    throw new CliError("UsageError", `unknown command "${name}" (commands: ${known})`);
  }
  return command;
}

function describeUsage(command: string | undefined): string {
  return command === undefined ? ROOT_USAGE : findCommand(command).usage;
}

function exitCodeOf(code: CliErrorCode): number {
  switch (code) {
    case "UsageError":
    case "InputError":
    case "ClusterError":
      return 2;
  }
}
