import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describeUnsupportedNode } from "../require-supported-node.js";

/**
 * A node binary on this machine older than the entry points need (the system's Node 20 at
 * /usr/bin/node or /usr/local/bin/node, next to the pinned Node 24 that runs the tests), with its
 * version; undefined when there is none. For tests that start an entry point on it.
 */
export function findOldNode(): { readonly path: string; readonly version: string } | undefined {
  for (const path of ["/usr/bin/node", "/usr/local/bin/node", "/bin/node"]) {
    if (!existsSync(path)) continue;
    const version = execFileSync(path, ["-p", "process.versions.node"], {
      encoding: "utf8",
    }).trim();
    if (describeUnsupportedNode({ program: "t", version, execPath: path }) !== undefined) {
      return { path, version };
    }
  }
  return undefined;
}
