import { explainNode, planCluster } from "@rrfleet/topology-core";
import { CliError } from "./cli-error.js";
import { formatExplanationText } from "./format-explanation-text.js";
import { parseCommandLine } from "./parse-command-line.js";
import { loadPlanInput, PLAN_INPUT_OPTIONS, type PlanCommandIo } from "./plan-command.js";

/** `rrctl explain --help`. */
export const EXPLAIN_USAGE = `Usage: rrctl explain NODE --nodes FILE [options]
       rrctl explain NODE --kubeconfig FILE [--context NAME] [options]

Explains one node from the plan rrctl plan would make for the same input: whether it may be a
route reflector (and the exact rule that stops it), why it is, becomes, stays or is not one
(cluster size, its zone's share, its rank), which reflectors it peers with and why (kept,
rendezvous rank, load bound, zone preference), and what the plan's steps write to it. Changes
nothing anywhere.

Options: the same as rrctl plan
  --kubeconfig FILE         read the cluster live, read-only; not with the file options
  --context NAME            the kubeconfig context (default: its current-context)
  --nodes FILE              kubectl get nodes -o json (required without --kubeconfig)
  --bgppeers FILE           kubectl get bgppeers.crd.projectcalico.org -o json
  --bgpconfigurations FILE  kubectl get bgpconfigurations.crd.projectcalico.org -o json
  --policy FILE             rrfleet policy, YAML or JSON (default: built-in defaults)
  -o, --output FORMAT       text (default) or json
  --now TIMESTAMP           the time NotReady durations are measured against (default: now)
  -h, --help                show this help

Exit status: 0 explained, 2 bad arguments or input, a node the cluster does not have, or a
cluster that cannot be read (nothing on stdout), 1 internal error.
`;

/**
 * Runs `rrctl explain NODE` with the arguments after `explain` and returns what to print: the
 * usage, the explanation as JSON (`JSON.stringify(explanation, null, 2)` and a newline), or as
 * text. Throws {@link CliError} for bad arguments or input, and for a node not in the cluster.
 */
export async function runExplainCommand(
  args: readonly string[],
  io: PlanCommandIo,
): Promise<string> {
  const { values, positionals } = parseCommandLine({
    args: [...args],
    options: PLAN_INPUT_OPTIONS,
    strict: true,
    tokens: true,
    allowPositionals: true,
  });
  if (values.help === true) return EXPLAIN_USAGE;
  const [node, extra] = positionals;
  if (node === undefined || node === "") {
    throw new CliError("UsageError", "NODE is required: the name of the node to explain");
  }
  if (extra !== undefined) {
    throw new CliError("UsageError", `one NODE at a time (got "${node}" and "${extra}")`);
  }
  const { snapshot, policy, now, output } = await loadPlanInput(values, io);
  const plan = planCluster(snapshot, policy, now);
  const explanation = explainNode(snapshot, policy, now, node, plan);
  if (explanation === undefined) {
    const source =
      values.kubeconfig === undefined
        ? `--nodes ${values.nodes ?? ""}`
        : `the cluster of --kubeconfig ${values.kubeconfig}`;
    const near = snapshot.nodes
      .map((n) => n.name)
      .filter((name) => name.includes(node) || node.includes(name))
      .slice(0, 3);
    throw new CliError(
      "InputError",
      `NODE: ${source} has no node named "${node}" (${snapshot.nodes.length} nodes` +
        `${near.length === 0 ? "" : `; similar: ${near.join(", ")}`})`,
    );
  }
  switch (output) {
    case "json":
      return `${JSON.stringify(explanation, null, 2)}\n`;
    case "text":
      return formatExplanationText(explanation);
  }
}
