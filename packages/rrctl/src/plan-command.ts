import { KubeError } from "@rrfleet/kube";
import { planCluster, type ClusterSnapshot, type Policy } from "@rrfleet/topology-core";
import { CliError } from "./cli-error.js";
import { formatPlanText } from "./format-plan-text.js";
import { loadClusterSnapshot, type SnapshotFiles } from "./load-cluster-snapshot.js";
import { loadPolicy } from "./load-policy.js";
import { parseCommandLine } from "./parse-command-line.js";
import { parseTimestamp } from "./parse-timestamp.js";
import type { ReadFile } from "./read-text-file.js";

/** The cluster `rrctl plan --kubeconfig FILE [--context NAME]` reads. */
export interface LiveClusterTarget {
  readonly kubeconfigPath: string;
  /** Default: the kubeconfig's current-context. */
  readonly context?: string;
}

/**
 * Reads a live cluster's snapshot, read-only. Throws `KubeError` (from `@rrfleet/kube`) for
 * problems with the kubeconfig, the connection, RBAC or the objects.
 */
export type ReadCluster = (target: LiveClusterTarget) => Promise<ClusterSnapshot>;

/** What `rrctl plan` needs from the outside world. */
export interface PlanCommandIo {
  readonly readFile: ReadFile;
  /** Used only with `--kubeconfig`. */
  readonly readCluster: ReadCluster;
  /** The wall clock, used only when `--now` is not given. */
  readonly now: () => Date;
}

/** `rrctl plan --help`. */
export const PLAN_USAGE = `Usage: rrctl plan --nodes FILE [options]
       rrctl plan --kubeconfig FILE [--context NAME] [options]

Plans a Calico route-reflector topology for one cluster and prints the ordered, safety-checked
steps that reach it. Reads Kubernetes List JSON as kubectl prints it, or the live cluster;
changes nothing anywhere.

Options:
  --kubeconfig FILE         read the cluster live instead of from files (read-only: it needs
                            list on nodes, bgppeers and bgpconfigurations and get on
                            clusterinformations); not with --nodes, --bgppeers, --bgpconfigurations
  --context NAME            the kubeconfig context (default: its current-context)
  --nodes FILE              kubectl get nodes -o json (required without --kubeconfig)
  --bgppeers FILE           kubectl get bgppeers.crd.projectcalico.org -o json
                            (default: the cluster has no BGPPeers)
  --bgpconfigurations FILE  kubectl get bgpconfigurations.crd.projectcalico.org -o json
                            (default: none, so the node-to-node mesh is on)
  --policy FILE             rrfleet policy, YAML or JSON (default: built-in defaults)
  -o, --output FORMAT       text (default) or json
  --now TIMESTAMP           the time NotReady grace periods are measured against, ISO 8601 with
                            a time zone, e.g. 2026-11-28T00:00:00Z (default: the current time)
  -h, --help                show this help

Exit status: 0 planned, 2 bad arguments or input, or a cluster that cannot be read (kubeconfig,
context, access, RBAC; nothing on stdout), 1 internal error.
`;

const OUTPUTS = ["text", "json"] as const;
/** `--output`. */
export type Output = (typeof OUTPUTS)[number];

/**
 * Runs `rrctl plan` with the arguments after `plan` and returns what to print on stdout: the
 * usage, the JSON plan (`JSON.stringify(plan, null, 2)` and a newline; same input, same bytes)
 * or the text rendering. Throws {@link CliError} for bad arguments or input, before any output.
 */
export async function runPlanCommand(args: readonly string[], io: PlanCommandIo): Promise<string> {
  const { values } = parseCommandLine({
    args: [...args],
    options: PLAN_INPUT_OPTIONS,
    strict: true,
    tokens: true,
    allowPositionals: false,
  });
  if (values.help === true) return PLAN_USAGE;
  const { snapshot, policy, now, output } = await loadPlanInput(values, io);
  const plan = planCluster(snapshot, policy, now);
  switch (output) {
    case "json":
      return `${JSON.stringify(plan, null, 2)}\n`;
    case "text":
      return formatPlanText(plan);
  }
}

/** The options `rrctl plan` and `rrctl explain` read their cluster, policy and clock from. */
export const PLAN_INPUT_OPTIONS = {
  kubeconfig: { type: "string" },
  context: { type: "string" },
  nodes: { type: "string" },
  bgppeers: { type: "string" },
  bgpconfigurations: { type: "string" },
  policy: { type: "string" },
  output: { type: "string", short: "o" },
  now: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** What {@link loadPlanInput} read: the planner's three inputs and the output format. */
export interface PlanInput {
  readonly snapshot: ClusterSnapshot;
  readonly policy: Policy;
  readonly now: Date;
  readonly output: Output;
}

/**
 * Reads the cluster (files, or live and read-only with `--kubeconfig`), the policy and `--now`
 * as `rrctl plan` does. Throws {@link CliError} naming the flag, the file and the field.
 */
export async function loadPlanInput(
  values: Partial<Record<keyof typeof PLAN_INPUT_OPTIONS, string | boolean>>,
  io: PlanCommandIo,
): Promise<PlanInput> {
  const str = (name: keyof typeof PLAN_INPUT_OPTIONS): string | undefined => {
    const value = values[name];
    return typeof value === "string" ? value : undefined;
  };
  const kubeconfig = optionalPath("--kubeconfig", str("kubeconfig"));
  if (kubeconfig === undefined && values.context !== undefined) {
    throw new CliError("UsageError", "--context needs --kubeconfig");
  }
  const source: SnapshotSource =
    kubeconfig === undefined
      ? {
          files: {
            nodes: requireNodesPath(str("nodes")),
            bgpPeers: optionalPath("--bgppeers", str("bgppeers")),
            bgpConfigurations: optionalPath("--bgpconfigurations", str("bgpconfigurations")),
          },
        }
      : { live: liveTarget(kubeconfig, values) };
  const policyPath = optionalPath("--policy", str("policy"));
  const output = parseOutput(str("output") ?? "text");
  const nowFlag = str("now");
  const now = nowFlag === undefined ? io.now() : parseNow(nowFlag);

  const snapshot =
    "live" in source
      ? await readLive(source.live, io.readCluster)
      : await loadClusterSnapshot(source.files, io.readFile);
  const policy = await loadPolicy(policyPath, io.readFile);
  return { snapshot, policy, now, output };
}

/** Where the snapshot comes from: List JSON files, or the live cluster. */
type SnapshotSource = { readonly files: SnapshotFiles } | { readonly live: LiveClusterTarget };

/** Flags that read files, which `--kubeconfig` replaces. */
const FILE_FLAGS = ["nodes", "bgppeers", "bgpconfigurations"] as const;

function liveTarget(
  kubeconfigPath: string,
  values: Partial<Record<(typeof FILE_FLAGS)[number] | "context", string | boolean>>,
): LiveClusterTarget {
  const given = FILE_FLAGS.filter((flag) => values[flag] !== undefined).map((flag) => `--${flag}`);
  if (given.length > 0) {
    throw new CliError(
      "UsageError",
      `--kubeconfig reads the cluster live: do not also give ${given.join(", ")}`,
    );
  }
  const context = values.context;
  if (context === "")
    throw new CliError("UsageError", "--context needs a name, not an empty string");
  return typeof context === "string" ? { kubeconfigPath, context } : { kubeconfigPath };
}

/** Reads the live cluster; its user-fixable problems become one `ClusterError` line. */
async function readLive(
  target: LiveClusterTarget,
  readCluster: ReadCluster,
): Promise<ClusterSnapshot> {
  try {
    return await readCluster(target);
  } catch (err: unknown) {
    // `Unknown` means the adapter could not classify it: report it as the internal error it is.
    if (err instanceof KubeError && err.code !== "Unknown") {
      const context = target.context === undefined ? "" : ` --context ${target.context}`;
      throw new CliError(
        "ClusterError",
        `--kubeconfig ${target.kubeconfigPath}${context}: ${err.message}`,
        {
          cause: err,
        },
      );
    }
    throw err;
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
