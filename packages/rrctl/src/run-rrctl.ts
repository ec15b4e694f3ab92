// rrctl's composition root: the only module that touches `process`. main.ts loads it once the
// Node.js version check passed (its imports would not even load on an older Node).
import { readFile } from "node:fs/promises";
import { connectRedis, createRedisFleetState } from "@rrfleet/fleet-state";
import { stopOnSignals } from "@rrfleet/telemetry";
import { runCli, type CliIo } from "./cli.js";
import { readLiveCluster } from "./read-live-cluster.js";
import { runController } from "./run-controller.js";

/**
 * Runs rrctl against the real process (argv, stdio, files, live clusters, wall clock) and sets
 * the exit code.
 */
export async function runRrctl(): Promise<void> {
  // `rrctl plan | head` closes stdout early: stop quietly instead of dying with a stack trace.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    process.exit(process.exitCode ?? 0);
  });
  const io: CliIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readFile: (path) => readFile(path, "utf8"),
    readCluster: readLiveCluster,
    now: () => new Date(),
    runController: (options) =>
      runController(options, stopOnSignals({ secondSignalExitCode: 130 })),
    openFleetState: async (settings, prefix) => {
      const redis = await connectRedis(settings);
      return {
        state: createRedisFleetState(redis, { prefix }),
        close: () => {
          redis.disconnect();
        },
      };
    },
    env: process.env,
    debug: process.env["RRFLEET_DEBUG"] === "1",
  };
  process.exitCode = await runCli(process.argv.slice(2), io);
}
