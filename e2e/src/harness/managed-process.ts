import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { isErrnoException } from "./is-errno-exception.js";

/** How a managed process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A child process whose stdout and stderr go to a log file, and that can be stopped. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  /** The exit, once the process has exited; undefined while it runs. */
  exitStatus(): ProcessExit | undefined;
  /**
   * Sends SIGTERM, then SIGKILL when the process is still running after `graceMs` (default
   * 10,000 ms). Resolves once it has exited; idempotent.
   */
  stop(graceMs?: number): Promise<ProcessExit>;
}

/** What to run. */
export interface ManagedProcessOptions {
  /** Short name used in messages, e.g. `etcd`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Both stdout and stderr are appended here (directly by the child, never through Node). */
  readonly logFile: string;
  readonly cwd?: string;
  /** The child's environment; default this process's. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Spawns a long-running binary with its output appended to a log file. A `process.on("exit")`
 * hook SIGKILLs it if the test process exits without stopping it, so an aborted run leaves no
 * server behind (a SIGKILLed test runner still can: nothing can run then). Throws when the binary
 * cannot be spawned.
 */
export async function startManagedProcess(options: ManagedProcessOptions): Promise<ManagedProcess> {
  const fd = openSync(options.logFile, "a");
  let child;
  try {
    child = spawn(options.command, options.args, {
      stdio: ["ignore", fd, fd],
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.env === undefined ? {} : { env: options.env }),
    });
  } finally {
    closeSync(fd);
  }
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name}: spawned without a pid`);

  let exit: ProcessExit | undefined;
  const killOnExit = (): void => {
    if (exit === undefined) child.kill("SIGKILL");
  };
  process.on("exit", killOnExit);
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      process.off("exit", killOnExit);
      resolve(exit);
    });
  });

  const stop = async (graceMs = 10_000): Promise<ProcessExit> => {
    if (exit !== undefined) return exit;
    child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => {
        resolve("timeout");
      }, graceMs);
    });
    const first = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (first === "timeout") child.kill("SIGKILL");
    return exited;
  };

  return {
    name: options.name,
    pid,
    logFile: options.logFile,
    exited,
    exitStatus: () => exit,
    stop,
  };
}

/**
 * The last `lines` lines of a log file, from byte `fromOffset` on (default 0), for failure
 * messages; a message instead when the file cannot be read.
 */
export async function readLogTail(logFile: string, lines = 40, fromOffset = 0): Promise<string> {
  try {
    const text = (await readFile(logFile)).subarray(fromOffset).toString("utf8");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch (err: unknown) {
    return `(cannot read ${logFile}: ${String(err)})`;
  }
}

/** Size of a file in bytes, 0 when it does not exist yet: where the next log output starts. */
export async function measureLogSize(logFile: string): Promise<number> {
  try {
    return (await stat(logFile)).size;
  } catch (err: unknown) {
    if (isErrnoException(err) && err.code === "ENOENT") return 0;
    throw err;
  }
}

/** "etcd exited (code 1, signal null)" once the process has exited; undefined while it runs. */
export function describeExit(process: ManagedProcess): string | undefined {
  const exit = process.exitStatus();
  return exit === undefined
    ? undefined
    : `${process.name} exited (code ${String(exit.code)}, signal ${String(exit.signal)})`;
}
