import type { RedisConnectionSettings } from "@rrfleet/fleet-state";
import type { CliIo } from "../cli.js";
import type { ReadCluster } from "../plan-command.js";
import type { RunOptions } from "../run-command.js";
import type { StatusSource } from "../status-command.js";
import { runCli } from "../cli.js";

/** What one {@link runFakeCli} call printed and returned. */
export interface FakeRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link runFakeCli}. */
export interface FakeIoOptions {
  /** In-memory files by path; any other path fails like a missing file (ENOENT). */
  readonly files?: Readonly<Record<string, string>>;
  /** The wall clock; default 2026-11-28T00:00:00Z. */
  readonly now?: () => Date;
  readonly debug?: boolean;
  /** Errors (with a `code`) to throw when reading these paths, e.g. EACCES. */
  readonly readErrors?: Readonly<Record<string, string>>;
  /** Reads `--kubeconfig` clusters; default: fails the test if called. */
  readonly readCluster?: ReadCluster;
  /** Runs `rrctl run`'s controller; default: fails the test if called. */
  readonly runController?: (options: RunOptions) => Promise<void>;
  /** Opens `rrctl status`'s shared state; default: fails the test if called. */
  readonly openFleetState?: (
    redis: RedisConnectionSettings,
    prefix: string,
  ) => Promise<StatusSource>;
  /** The environment; default empty. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Runs {@link runCli} against in-memory files and captures stdout, stderr and the exit code. */
export async function runFakeCli(
  argv: readonly string[],
  options: FakeIoOptions = {},
): Promise<FakeRun> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    readFile: (path) => {
      const code = options.readErrors?.[path];
      if (code !== undefined) {
        return Promise.reject(
          Object.assign(new Error(`${code}: failed, open '${path}'`), { code }),
        );
      }
      const text = options.files?.[path];
      if (text === undefined) {
        const error = new Error(`ENOENT: no such file or directory, open '${path}'`);
        return Promise.reject(Object.assign(error, { code: "ENOENT" }));
      }
      return Promise.resolve(text);
    },
    readCluster:
      options.readCluster ??
      (() => Promise.reject(new Error("runFakeCli: no readCluster given for --kubeconfig"))),
    runController:
      options.runController ??
      (() => Promise.reject(new Error("runFakeCli: no runController given for rrctl run"))),
    now: options.now ?? (() => new Date("2026-11-28T00:00:00Z")),
    openFleetState:
      options.openFleetState ??
      (() => Promise.reject(new Error("runFakeCli: no openFleetState given for rrctl status"))),
    env: options.env ?? {},
    ...(options.debug === undefined ? {} : { debug: options.debug }),
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}
