#!/usr/bin/env node
/**
 * rrfleet-watcher: one of the fleet's sharded watchers (see packages/watcher/README.md).
 * Exit codes: 0 stopped by SIGTERM/SIGINT, 2 bad configuration or a Node.js too old, 1 anything
 * else. The Node.js version is checked before anything else loads: on an older Node the
 * dependencies throw while loading.
 */
import { requireSupportedNode } from "@rrfleet/telemetry/require-supported-node";

if (requireSupportedNode("rrfleet-watcher")) {
  const { runWatcherProcess } = await import("./run-watcher-process.js");
  process.exitCode = await runWatcherProcess();
  // Stray handles (a half-open socket) must not keep a stopped watcher alive.
  setTimeout(() => process.exit(), 2_000).unref();
}
