import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "./run-command.js";

/**
 * The Prometheus Operator release whose CRDs (ServiceMonitor, PodMonitor, PrometheusRule, …) the
 * chart tests install: its Go module, served by the module proxy, carries them under
 * `example/prometheus-operator-crd/` — a pinned, checksummed source that needs no other download.
 */
export const PROMETHEUS_OPERATOR_VERSION = "v0.85.0";

const MODULE = "github.com/prometheus-operator/prometheus-operator";

/**
 * Paths of the Prometheus Operator CRD files for `plurals` (e.g. `servicemonitors`), from the
 * module cache (`go mod download`, verified against go.sum's checksum database; instant once
 * cached). Throws when go is missing, the download fails or a CRD file is not in the module.
 */
export async function locatePrometheusOperatorCrds(
  plurals: readonly string[] = ["servicemonitors", "podmonitors", "prometheusrules"],
): Promise<string[]> {
  const go = existsSync("/usr/local/go/bin/go") ? "/usr/local/go/bin/go" : "go";
  // Outside any module, so the repository's own go.mod (if any) does not interfere.
  const dir = await mkdtemp(join(tmpdir(), "rrfleet-go-"));
  try {
    const result = await runCommand(
      go,
      ["mod", "download", "-json", `${MODULE}@${PROMETHEUS_OPERATOR_VERSION}`],
      { cwd: dir, env: { GOFLAGS: "-mod=mod", GOTOOLCHAIN: "local", GOWORK: "off" } },
    );
    const info = JSON.parse(result.stdout || "{}") as { Dir?: string; Error?: string };
    if (result.code !== 0 || info.Dir === undefined) {
      throw new Error(
        `go mod download ${MODULE}@${PROMETHEUS_OPERATOR_VERSION} failed: ${info.Error ?? result.stderr.trim()}`,
      );
    }
    return plurals.map((plural) => {
      const file = join(
        info.Dir ?? "",
        "example",
        "prometheus-operator-crd",
        `monitoring.coreos.com_${plural}.yaml`,
      );
      if (!existsSync(file)) throw new Error(`${file} is not in the module`);
      return file;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
