import { planCluster } from "@rrfleet/topology-core";
import { CliError } from "./cli-error.js";
import { formatPlanText } from "./format-plan-text.js";
import { loadClusterSnapshot } from "./load-cluster-snapshot.js";
import { loadPolicy } from "./load-policy.js";
import { parseCommandLine } from "./parse-command-line.js";
import { parseTimestamp } from "./parse-timestamp.js";
import type { ReadFile } from "./read-text-file.js";

/** What `rrctl plan` needs from the outside world. */
export interface PlanCommandIo {
  readonly readFile: ReadFile;
  /** The wall clock, used only when `--now` is not given. */
  readonly now: () => Date;
}

/** `rrctl plan --help`. */
export const PLAN_USAGE = `Usage: rrctl plan --nodes FILE [options]

Plans a Calico route-reflector topology for one cluster and prints the ordered, safety-checked
steps that reach it. Reads Kubernetes List JSON as kubectl prints it; changes nothing anywhere.

Options:
  --nodes FILE              kubectl get nodes -o json (required)
  --bgppeers FILE           kubectl get bgppeers.crd.projectcalico.org -o json
                            (default: the cluster has no BGPPeers)
  --bgpconfigurations FILE  kubectl get bgpconfigurations.crd.projectcalico.org -o json
                            (default: none, so the node-to-node mesh is on)
  --policy FILE             rrfleet policy, YAML or JSON (default: built-in defaults)
  -o, --output FORMAT       text (default) or json
  --now TIMESTAMP           the time NotReady grace periods are measured against, ISO 8601 with
                            a time zone, e.g. 2026-11-28T00:00:00Z (default: the current time)
  -h, --help                show this help

Exit status: 0 planned, 2 bad arguments or input (nothing on stdout), 1 internal error.
`;

const OUTPUTS = ["text", "json"] as const;
type Output = (typeof OUTPUTS)[number];

/**
 * Runs `rrctl plan` with the arguments after `plan` and returns what to print on stdout: the
 * usage, the JSON plan (`JSON.stringify(plan, null, 2)` and a newline; same input, same bytes)
 * or the text rendering. Throws {@link CliError} for bad arguments or input, before any output.
 */
export async function runPlanCommand(args: readonly string[], io: PlanCommandIo): Promise<string> {
  const { values } = parseCommandLine({
    args: [...args],
    options: {
      nodes: { type: "string" },
      bgppeers: { type: "string" },
      bgpconfigurations: { type: "string" },
      policy: { type: "string" },
      output: { type: "string", short: "o" },
      now: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    tokens: true,
    allowPositionals: false,
  });
  if (values.help === true) return PLAN_USAGE;

  const nodes = requireNodesPath(values.nodes);
  const bgpPeers = optionalPath("--bgppeers", values.bgppeers);
  const bgpConfigurations = optionalPath("--bgpconfigurations", values.bgpconfigurations);
  const policyPath = optionalPath("--policy", values.policy);
  const output = parseOutput(values.output ?? "text");
  const now = values.now === undefined ? io.now() : parseNow(values.now);

  const snapshot = await loadClusterSnapshot({ nodes, bgpPeers, bgpConfigurations }, io.readFile);
  const policy = await loadPolicy(policyPath, io.readFile);
  const plan = planCluster(snapshot, policy, now);
  switch (output) {
    case "json":
      return `${JSON.stringify(plan, null, 2)}\n`;
    case "text":
      return formatPlanText(plan);
  }
}

function requireNodesPath(value: string | undefined): string {
  if (value === undefined) {
    throw new CliError(
      "UsageError",
      `--nodes is required (the output of "kubectl get nodes -o json")`,
    );
  }
  return optionalPath("--nodes", value) ?? value;
}

function optionalPath(flag: string, value: string | undefined): string | undefined {
  if (value === "") {
    throw new CliError("UsageError", `${flag} needs a file name, not an empty string`);
  }
  return value;
}

function parseOutput(value: string): Output {
  const output = OUTPUTS.find((o) => o === value);
  if (output === undefined) {
    throw new CliError("UsageError", `--output: must be "text" or "json" (got "${value}")`);
  }
  return output;
}

function parseNow(value: string): Date {
  const now = parseTimestamp(value);
  if (now === undefined) {
    throw new CliError(
      "UsageError",
      `--now: must be an ISO 8601 timestamp with a time zone, e.g. 2026-11-28T00:00:00Z (got "${value}")`,
    );
  }
  return now;
}
