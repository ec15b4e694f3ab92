import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { findFreePort } from "./free-port.js";
import {
  describeExit,
  readLogTail,
  startManagedProcess,
  type ManagedProcess,
} from "./managed-process.js";
import type { TestCluster } from "./test-cluster.js";
import { waitFor } from "./wait-for.js";

/** The committed launcher npm links as `rrctl` (it runs the built `dist/main.js`). */
const RRCTL_BIN = fileURLToPath(new URL("../../../packages/rrctl/bin/rrctl.js", import.meta.url));

/** Options of {@link startRrctlRun}. */
export interface RrctlRunOptions {
  readonly cluster: TestCluster;
  /** The kubeconfig context; default the cluster's admin context. */
  readonly context?: string;
  /** Several clusters: `--context` for each (instead of `context`), e.g. with a merged kubeconfig. */
  readonly contexts?: readonly string[];
  /** Default the cluster's own kubeconfig. */
  readonly kubeconfigPath?: string;
  /** Written to a policy file passed with `--policy`. */
  readonly policy?: Readonly<Record<string, unknown>>;
  /** More arguments, after the ones this sets (kubeconfig, context, listen, policy). */
  readonly args?: readonly string[];
  /** Flags for node itself, e.g. `--max-old-space-size=128` to prove a memory bound. */
  readonly nodeFlags?: readonly string[];
  /** Log file name inside the cluster's temp dir; default `rrctl-run.log`. */
  readonly logName?: string;
}

/** A running `rrctl run` child process. */
export interface RrctlRunProcess extends ManagedProcess {
  /** `http://127.0.0.1:PORT` of its /metrics, /healthz and /readyz. */
  readonly telemetryUrl: string;
  /** The JSON log lines written so far. */
  logLines(): Promise<Record<string, unknown>[]>;
  /** Resident set size now, from /proc (bytes); undefined once it has exited. */
  rssBytes(): Promise<number | undefined>;
  /** GETs a telemetry path: status and body. */
  probe(path: string): Promise<{ status: number; body: string }>;
}

/**
 * Starts `rrctl run` against a test cluster as its own process (so tests can SIGTERM and SIGKILL
 * it), with telemetry on a free loopback port and logs in the cluster's temp dir.
 */
export async function startRrctlRun(options: RrctlRunOptions): Promise<RrctlRunProcess> {
  const { cluster } = options;
  const port = await findFreePort();
  const args = [
    ...(options.nodeFlags ?? []),
    RRCTL_BIN,
    "run",
    "--kubeconfig",
    options.kubeconfigPath ?? cluster.kubeconfigPath,
    ...(options.contexts ?? [options.context ?? cluster.name]).flatMap((c) => ["--context", c]),
    "--listen",
    `127.0.0.1:${port}`,
  ];
  if (options.policy !== undefined) {
    const policyFile = join(cluster.dir, `policy-${port}.json`);
    await writeFile(policyFile, JSON.stringify(options.policy));
    args.push("--policy", policyFile);
  }
  args.push(...(options.args ?? []));
  const logFile = join(cluster.dir, options.logName ?? "rrctl-run.log");
  const child = await startManagedProcess({
    name: "rrctl run",
    command: process.execPath,
    args,
    logFile,
  });
  const telemetryUrl = `http://127.0.0.1:${port}`;
  return {
    ...child,
    telemetryUrl,
    logLines: async () =>
      (await readFile(logFile, "utf8"))
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    rssBytes: async () => {
      if (child.exitStatus() !== undefined) return undefined;
      const status = await readFile(`/proc/${child.pid}/status`, "utf8").catch(() => "");
      const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
      return kib === undefined ? undefined : Number(kib) * 1024;
    },
    probe: async (path) => {
      const response = await fetch(`${telemetryUrl}${path}`);
      return { status: response.status, body: await response.text() };
    },
  };
}

/** Waits until `rrctl run` answers /readyz 200 (its watches have synced); fails if it exits. */
export async function waitForReady(run: RrctlRunProcess, timeoutMs = 60_000): Promise<void> {
  try {
    await waitFor(async () => ((await run.probe("/readyz")).status === 200 ? true : undefined), {
      description: "rrctl run /readyz",
      timeoutMs,
      abortIf: () => describeExit(run),
    });
  } catch (err: unknown) {
    throw new Error(`${String(err)}\n${await readLogTail(run.logFile)}`, { cause: err });
  }
}
