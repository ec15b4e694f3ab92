import { execFile } from "node:child_process";

/** What a finished command printed. */
export interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to completion with `input` on its stdin and returns what it printed. Throws an
 * Error naming the command, its exit status and its stderr when it fails (never a silent
 * failure: a lab that half-built its network must stop the test).
 */
export function runCommand(
  command: string,
  args: readonly string[],
  input?: string,
): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (error !== null) {
          const shown = [command, ...args].join(" ");
          reject(
            new Error(
              `${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown} failed (${String(error.code ?? error.signal)}): ${stderr.trim() || error.message}`,
            ),
          );
          return;
        }
        resolve({ stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/**
 * Runs `ip -batch -` (with `-n NAMESPACE` when given) on `commands`, one per line: hundreds of
 * link, address and neighbour changes in one process instead of one each.
 */
export async function runIpBatch(commands: readonly string[], namespace?: string): Promise<void> {
  if (commands.length === 0) return;
  const args = namespace === undefined ? ["-batch", "-"] : ["-n", namespace, "-batch", "-"];
  await runCommand("ip", args, `${commands.join("\n")}\n`);
}
