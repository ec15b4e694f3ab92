#!/usr/bin/env node
// rrctl's composition root: the only module that touches `process`. Importing it does nothing
// unless it is the program being run, so tests and the bin launcher can import `main`.
import { realpathSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { connectRedis, createRedisFleetState } from "@rrfleet/fleet-state";
import { stopOnSignals } from "@rrfleet/telemetry";
import { runCli, type CliIo } from "./cli.js";
import { readLiveCluster } from "./read-live-cluster.js";
import { runController } from "./run-controller.js";

/**
 * Runs rrctl against the real process (argv, stdio, files, live clusters, wall clock) and sets
 * the exit code.
 */
export async function main(): Promise<void> {
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
    openFleetState: async (redisUrl, prefix) => {
      const redis = await connectRedis(redisUrl);
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

/** Whether this module is the program's entry point (`import.meta.main` needs Node ≥ 22.18). */
function isEntryPoint(): boolean {
  const meta: { readonly main?: boolean } = import.meta;
  if (meta.main !== undefined) return meta.main;
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch (err: unknown) {
    // An argv[1] that cannot be resolved is not this file.
    if (err instanceof Error) return false;
    throw err;
  }
}

if (isEntryPoint()) await main();
