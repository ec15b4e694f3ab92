#!/usr/bin/env node
/**
 * rrfleet-applier: the fleet's leader-elected applier (see packages/applier/README.md).
 * Exit codes: 0 stopped by SIGTERM/SIGINT, 2 bad configuration or a Node.js too old, 3
 * leadership lost (restart me as a standby), 1 anything else. The Node.js version is checked
 * before anything else loads: on an older Node the dependencies throw while loading.
 */
import { requireSupportedNode } from "@rrfleet/telemetry/require-supported-node";

if (requireSupportedNode("rrfleet-applier")) {
  const { runApplierProcess } = await import("./run-applier-process.js");
  process.exitCode = await runApplierProcess();
  // Stray handles (a half-open socket) must not keep a deposed leader alive.
  setTimeout(() => process.exit(), 2_000).unref();
}
