import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { findFreePort } from "./free-port.js";
import { readLogTail, startManagedProcess, type ManagedProcess } from "./managed-process.js";

/** The built entry points of the two fleet services. */
const ENTRY_POINTS = {
  watcher: fileURLToPath(new URL("../../../packages/watcher/dist/main.js", import.meta.url)),
  applier: fileURLToPath(new URL("../../../packages/applier/dist/main.js", import.meta.url)),
} as const;

/** Which service. */
export type FleetServiceKind = keyof typeof ENTRY_POINTS;

/** Options of {@link startFleetService}. */
export interface FleetServiceOptions {
  readonly kind: FleetServiceKind;
  /** WATCHER_ID or APPLIER_ID; also names the log file. */
  readonly id: string;
  /** Where the log goes. */
  readonly dir: string;
  /** The service's environment (REDIS_URL, FLEET_FILE, timings…); LISTEN_ADDRESS is set here. */
  readonly env: Readonly<Record<string, string>>;
}

/** A running watcher or applier process. */
export interface FleetServiceProcess extends ManagedProcess {
  readonly kind: FleetServiceKind;
  readonly id: string;
  /** `http://127.0.0.1:PORT` of its telemetry server (/metrics, probes, the status page). */
  readonly telemetryUrl: string;
  /** Sends a signal (SIGKILL, SIGSTOP, SIGCONT, SIGTERM). */
  signal(signal: NodeJS.Signals): void;
  /** Its /metrics as `name{labels}` → value; empty when it does not answer (stopped, exited). */
  metrics(): Promise<Map<string, number>>;
  /** The JSON log lines written so far. */
  logLines(): Promise<Record<string, unknown>[]>;
  /** The log's last lines, for failure messages. */
  logTail(lines?: number): Promise<string>;
  /** Resident set size (bytes) from /proc; undefined once it has exited. */
  rssBytes(): Promise<number | undefined>;
}

/** Starts `rrfleet-watcher` or `rrfleet-applier` as its own process with telemetry on a free port. */
export async function startFleetService(
  options: FleetServiceOptions,
): Promise<FleetServiceProcess> {
  const port = await findFreePort();
  const logFile = join(options.dir, `${options.id}.log`);
  const idVariable = options.kind === "watcher" ? "WATCHER_ID" : "APPLIER_ID";
  const child = await startManagedProcess({
    name: `${options.kind} ${options.id}`,
    command: process.execPath,
    args: [ENTRY_POINTS[options.kind]],
    logFile,
    env: {
      ...process.env,
      ...options.env,
      [idVariable]: options.id,
      LISTEN_ADDRESS: `127.0.0.1:${port}`,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    ...child,
    kind: options.kind,
    id: options.id,
    telemetryUrl: url,
    signal: (signal) => {
      if (child.exitStatus() === undefined) process.kill(child.pid, signal);
    },
    metrics: async () => {
      const values = new Map<string, number>();
      try {
        const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2_000) });
        for (const line of (await response.text()).split("\n")) {
          if (line.startsWith("#") || line.trim() === "") continue;
          const at = line.lastIndexOf(" ");
          values.set(line.slice(0, at), Number(line.slice(at + 1)));
        }
      } catch {
        // Not answering: stopped, exited or not listening yet.
      }
      return values;
    },
    logLines: async () =>
      (await readFile(logFile, "utf8"))
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    logTail: (lines = 30) => readLogTail(logFile, lines),
    rssBytes: async () => {
      if (child.exitStatus() !== undefined) return undefined;
      const status = await readFile(`/proc/${child.pid}/status`, "utf8").catch(() => "");
      const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
      return kib === undefined ? undefined : Number(kib) * 1024;
    },
  };
}
