import { isLogLevel, type LogLevel } from "@rrfleet/telemetry";
import type { Policy } from "@rrfleet/topology-core";
import { CliError } from "./cli-error.js";
import { loadPolicy } from "./load-policy.js";
import { parseCommandLine } from "./parse-command-line.js";
import type { ReadFile } from "./read-text-file.js";

/** How `rrctl run` waits between a step that opens sessions and the one that may remove others. */
export type SessionCheckMode = "calico-node-status" | "delay";

/** Everything `rrctl run` was asked to do, validated. */
export interface RunOptions {
  /** Default: `KUBECONFIG`, `~/.kube/config`, or the in-cluster service account. */
  readonly kubeconfigPath?: string;
  /** The clusters, as kubeconfig contexts; empty means the current context. */
  readonly contexts: readonly string[];
  readonly policy: Policy;
  readonly dryRun: boolean;
  readonly listenHost: string;
  readonly listenPort: number;
  readonly sessionCheck: SessionCheckMode;
  /** The delay mode's wait, and the fallback for sessions that cannot be checked. */
  readonly switchoverDelayMs: number;
  /** How long the CalicoNodeStatus check waits for Established sessions per attempt. */
  readonly sessionTimeoutMs: number;
  /** Per-cluster write budget. */
  readonly qps: number;
  readonly burst: number;
  readonly resyncMs: number;
  readonly logLevel: LogLevel;
  /** Serve the read-only status page on the --listen address; `--no-status-page` turns it off. */
  readonly statusPage: boolean;
}

/** What `rrctl run` needs from the outside world. */
export interface RunCommandIo {
  readonly readFile: ReadFile;
  /** Runs the controller until the process is told to stop (SIGTERM, SIGINT). */
  readonly runController: (options: RunOptions) => Promise<void>;
}

/** `rrctl run --help`. */
export const RUN_USAGE = `Usage: rrctl run [--kubeconfig FILE] [--context NAME ...] [options]

Runs the rrfleet controller in this process (watcher and applier together, state in memory) for
one or more clusters: it watches Nodes and Calico objects, keeps the route-reflector topology the
policy asks for, and changes clusters only through safety-checked, make-before-break steps.
Stops cleanly on SIGTERM or SIGINT; a restart simply plans again from what the clusters show.

Options:
  --kubeconfig FILE           kubeconfig (default: KUBECONFIG, ~/.kube/config or in-cluster)
  --context NAME              a cluster to manage, by kubeconfig context; repeat for several
                              (default: the current context)
  --policy FILE               rrfleet policy, YAML or JSON (default: built-in defaults)
  --dry-run                   plan and log what would be done; write nothing
  --listen HOST:PORT          /metrics, /healthz, /readyz and the status page (GET /)
                              (default 127.0.0.1:9464; port 0 picks one)
  --no-status-page            do not serve the read-only status page
  --session-check MODE        calico-node-status (default): before a step that removes or restarts
                              BGP sessions, confirm from CalicoNodeStatus that the sessions it keeps
                              are Established, then that a sample of the nodes losing sessions
                              has their routes over the ones they keep (refuses to start where
                              Calico does not serve it).
                              delay: only wait --switchover-delay-seconds instead. It cannot see
                              sessions or routes: real sessions take 2-62 s to establish when both ends dial
                              (measured on BIRD), and a step applied before they are up drops
                              routes. Use it only where CalicoNodeStatus is missing (Calico < 3.22),
                              with a delay above your clusters' worst establishment time.
  --switchover-delay-seconds N  default 10
  --session-timeout-seconds N   default 120
  --qps N                     writes per second per cluster (default 20)
  --burst N                   write burst per cluster (default 40)
  --resync-seconds N          re-plan at least this often (default 30)
  --log-level LEVEL           trace, debug, info (default), warn, error, fatal, silent
  -h, --help                  show this help

Exit status: 0 stopped by a signal, 2 bad arguments, policy, kubeconfig or missing RBAC
permissions (checked before anything is written), 1 internal error.
`;

/**
 * Runs `rrctl run` with the arguments after `run`: validates every option (throws
 * {@link CliError} naming the flag, before touching any cluster), then hands over to
 * `io.runController` and returns "" once it stops; `--help` returns the usage.
 */
export async function runRunCommand(args: readonly string[], io: RunCommandIo): Promise<string> {
  const options = await parseRunOptions(args, io.readFile);
  if (options === undefined) return RUN_USAGE;
  await io.runController(options);
  return "";
}

/** Parses and validates `rrctl run`'s arguments; undefined for `--help`. */
export async function parseRunOptions(
  args: readonly string[],
  readFile: ReadFile,
): Promise<RunOptions | undefined> {
  const { values } = parseCommandLine({
    args: [...args],
    options: {
      kubeconfig: { type: "string" },
      context: { type: "string", multiple: true },
      policy: { type: "string" },
      "dry-run": { type: "boolean" },
      listen: { type: "string" },
      "session-check": { type: "string" },
      "switchover-delay-seconds": { type: "string" },
      "session-timeout-seconds": { type: "string" },
      qps: { type: "string" },
      burst: { type: "string" },
      "resync-seconds": { type: "string" },
      "log-level": { type: "string" },
      "no-status-page": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    tokens: true,
    allowPositionals: false,
  });
  if (values.help === true) return undefined;

  const contexts = values.context ?? [];
  const empty = contexts.findIndex((context) => context === "");
  if (empty >= 0) throw new CliError("UsageError", "--context needs a name, not an empty string");
  const duplicate = contexts.find((context, i) => contexts.indexOf(context) !== i);
  if (duplicate !== undefined) {
    throw new CliError("UsageError", `--context ${duplicate} given more than once`);
  }
  if (values.kubeconfig === "") {
    throw new CliError("UsageError", "--kubeconfig needs a file name, not an empty string");
  }
  const { host, port } = parseListen(values.listen ?? "127.0.0.1:9464");
  const sessionCheck = parseSessionCheck(values["session-check"] ?? "calico-node-status");
  const logLevel = values["log-level"] ?? "info";
  if (!isLogLevel(logLevel)) {
    throw new CliError(
      "UsageError",
      `--log-level: must be one of trace, debug, info, warn, error, fatal, silent (got "${logLevel}")`,
    );
  }
  const policy = await loadPolicy(values.policy, readFile);
  return {
    ...(values.kubeconfig === undefined ? {} : { kubeconfigPath: values.kubeconfig }),
    contexts,
    policy,
    dryRun: values["dry-run"] === true,
    listenHost: host,
    listenPort: port,
    sessionCheck,
    switchoverDelayMs:
      parseNumber("--switchover-delay-seconds", values["switchover-delay-seconds"] ?? "10", 0) *
      1000,
    sessionTimeoutMs:
      parseNumber("--session-timeout-seconds", values["session-timeout-seconds"] ?? "120", 1) *
      1000,
    qps: parseNumber("--qps", values.qps ?? "20", 0.01),
    burst: Math.floor(parseNumber("--burst", values.burst ?? "40", 1)),
    resyncMs: parseNumber("--resync-seconds", values["resync-seconds"] ?? "30", 1) * 1000,
    logLevel,
    statusPage: values["no-status-page"] !== true,
  };
}

function parseListen(value: string): { host: string; port: number } {
  const match = /^(.*):(\d{1,5})$/.exec(value);
  const port = match === null ? NaN : Number(match[2]);
  if (match === null || port > 65535) {
    throw new CliError(
      "UsageError",
      `--listen: must be HOST:PORT with a port from 0 to 65535, e.g. 0.0.0.0:9464 (got "${value}")`,
    );
  }
  const host = (match[1] ?? "").replace(/^\[(.*)\]$/, "$1");
  return { host: host === "" ? "0.0.0.0" : host, port };
}

function parseSessionCheck(value: string): SessionCheckMode {
  if (value === "calico-node-status" || value === "delay") return value;
  throw new CliError(
    "UsageError",
    `--session-check: must be "calico-node-status" or "delay" (got "${value}")`,
  );
}

function parseNumber(flag: string, value: string, min: number): number {
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number) || number < min) {
    throw new CliError("UsageError", `${flag}: must be a number >= ${min} (got "${value}")`);
  }
  return number;
}
