import { fileURLToPath } from "node:url";
import { runCommand } from "./run-command.js";

/** A Go command-line tool built from the module proxy by `scripts/build-go-tool.sh`. */
export interface GoTool {
  readonly name: string;
  readonly package: string;
  readonly version: string;
}

/** helm, pinned (contracts: cache name `helm-v3.22.0`). */
export const HELM: GoTool = {
  name: "helm",
  package: "helm.sh/helm/v3/cmd/helm",
  version: "v3.22.0",
};

/** promtool, pinned to the Prometheus release the in-chart Prometheus runs (v3.16.0). */
export const PROMTOOL: GoTool = {
  name: "promtool",
  package: "github.com/prometheus/prometheus/cmd/promtool",
  version: "v0.316.0",
};

/** The Prometheus server, same release as {@link PROMTOOL}. */
export const PROMETHEUS: GoTool = {
  name: "prometheus",
  package: "github.com/prometheus/prometheus/cmd/prometheus",
  version: "v0.316.0",
};

const BUILD_SCRIPT = fileURLToPath(new URL("../../../scripts/build-go-tool.sh", import.meta.url));

/**
 * The path of `tool`'s binary: `scripts/build-go-tool.sh` prints it at once when the binary is
 * in `~/.cache/rrfleet/bin`, and builds it first otherwise (minutes; `npm test` builds helm and
 * promtool before the suites run). Throws with the script's last output lines when it fails.
 */
export async function buildGoTool(tool: GoTool): Promise<string> {
  const result = await runCommand("bash", [BUILD_SCRIPT, tool.name, tool.package, tool.version], {
    timeoutMs: 3_600_000,
  });
  const path = result.stdout.trim().split("\n").pop() ?? "";
  if (result.code !== 0 || path === "") {
    const tail = result.stderr.trim().split("\n").slice(-15).join("\n");
    throw new Error(`building ${tool.name} ${tool.version} failed (exit ${result.code}):\n${tail}`);
  }
  return path;
}
