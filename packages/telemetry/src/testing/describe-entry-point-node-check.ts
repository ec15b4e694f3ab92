import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { findOldNode } from "./find-old-node.js";

/**
 * The two tests every fleet service's entry point needs: on the machine's old Node.js (when it
 * has one) it refuses with one line and exit code 2; on the pinned Node.js it passes the check
 * and, with no environment, stops at its configuration instead. `main`: the compiled entry point
 * (the package's `test` script builds dist/ first).
 */
export function describeEntryPointNodeCheck(program: string, main: URL): void {
  const path = fileURLToPath(main);
  const oldNode = findOldNode();
  const run = (node: string): { status: number | null; stdout: string; stderr: string } => {
    // No REDIS_URL, no clusters: a supported Node gets as far as the configuration and stops there.
    const result = spawnSync(node, [path], {
      encoding: "utf8",
      env: { PATH: process.env["PATH"] ?? "" },
      timeout: 20_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  describe(`the ${program} entry point`, () => {
    it.skipIf(oldNode === undefined)(
      `refuses an old Node.js (${oldNode?.path ?? "none on this machine"}) with one line and exit code 2`,
      () => {
        const result = run(oldNode?.path ?? "");
        expect(result.stderr).toBe(
          `${program}: needs Node.js 22.19.0 or newer, but runs on Node.js v${oldNode?.version ?? ""} (${oldNode?.path ?? ""}); use Node.js 24 (in the repository, npx and npm scripts put it first on PATH: node_modules/.bin/node)\n`,
        );
        expect(result.stdout).toBe("");
        expect(result.status).toBe(2);
      },
    );

    it("passes the check on the pinned Node.js and reports its configuration instead", () => {
      const result = run(process.execPath);
      expect(result.stderr).toMatch(new RegExp(`^${program}: invalid configuration\\nREDIS_URL: `));
      expect(result.status).toBe(2);
    });
  });
}
