import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { runCommand } from "./run-command.js";

/** The Go tools pinned in `scripts/go-tools.json` (the file `npm test` builds them from). */
export type GoToolName = "helm" | "promtool" | "prometheus";

const BUILD_SCRIPT = fileURLToPath(new URL("../../../scripts/build-go-tool.sh", import.meta.url));
const PINS = fileURLToPath(new URL("../../../scripts/go-tools.json", import.meta.url));

/**
 * The path of a Go tool's binary, built by `scripts/build-go-tool.sh` at its pinned package and
 * version: printed at once when it is in `~/.cache/rrfleet/bin`, built first otherwise (minutes;
 * `npm test` builds helm and promtool before the suites run). Throws with the script's last
 * output lines when the build fails.
 */
export async function buildGoTool(name: GoToolName): Promise<string> {
  const pins = JSON.parse(await readFile(PINS, "utf8")) as Record<
    string,
    { readonly package: string; readonly version: string }
  >;
  const pin = pins[name];
  if (pin === undefined) throw new Error(`scripts/go-tools.json pins no ${name}`);
  const result = await runCommand("bash", [BUILD_SCRIPT, name, pin.package, pin.version], {
    timeoutMs: 3_600_000,
  });
  const path = result.stdout.trim().split("\n").pop() ?? "";
  if (result.code !== 0 || path === "") {
    const tail = result.stderr.trim().split("\n").slice(-15).join("\n");
    throw new Error(`building ${name} ${pin.version} failed (exit ${result.code}):\n${tail}`);
  }
  return path;
}
