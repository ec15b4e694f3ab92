#!/usr/bin/env node
// rrctl's entry point. It checks the Node.js version before it loads anything else (on an older
// Node the dependencies throw while loading), then loads and runs run-rrctl.ts. Importing it
// does nothing unless it is the program being run, so tests and the bin launcher can import
// `main`.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { requireSupportedNode } from "@rrfleet/telemetry/require-supported-node";

/**
 * Runs rrctl against the real process (argv, stdio, files, live clusters, wall clock) and sets
 * the exit code: 2 on a Node.js older than the one the dependencies need, with one line on
 * stderr.
 */
export async function main(): Promise<void> {
  if (!requireSupportedNode("rrctl")) return;
  const { runRrctl } = await import("./run-rrctl.js");
  await runRrctl();
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
