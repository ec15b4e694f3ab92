import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { findOldNode } from "@rrfleet/telemetry/testing";
import { describe, expect, it } from "vitest";

// Through the compiled entry point: the package's `test` script builds dist/ first.
const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const oldNode = findOldNode();

function run(node: string): { status: number | null; stdout: string; stderr: string } {
  // No REDIS_URL, no clusters: a supported Node gets as far as the configuration and stops there.
  const result = spawnSync(node, [MAIN], {
    encoding: "utf8",
    env: { PATH: process.env["PATH"] ?? "" },
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("the rrfleet-watcher entry point", () => {
  it.skipIf(oldNode === undefined)(
    `refuses an old Node.js (${oldNode?.path ?? "none on this machine"}) with one line and exit code 2`,
    () => {
      const result = run(oldNode?.path ?? "");
      expect(result.stderr).toBe(
        `rrfleet-watcher: needs Node.js 22.19.0 or newer, but runs on Node.js v${oldNode?.version ?? ""} (${oldNode?.path ?? ""}); use Node.js 24 (in the repository, npx and npm scripts put it first on PATH: node_modules/.bin/node)\n`,
      );
      expect(result.stdout).toBe("");
      expect(result.status).toBe(2);
    },
  );

  it("passes the check on the pinned Node.js and reports its configuration instead", () => {
    const result = run(process.execPath);
    expect(result.stderr).toMatch(/^rrfleet-watcher: invalid configuration\nREDIS_URL: /);
    expect(result.status).toBe(2);
  });
});
