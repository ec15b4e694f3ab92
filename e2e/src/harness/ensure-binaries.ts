import { execFile, spawn } from "node:child_process";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { E2E_DIR } from "./e2e-dir.js";
import { isErrnoException } from "./is-errno-exception.js";

const execFileAsync = promisify(execFile);

/** The kube-apiserver and etcd binaries the harness runs, with the versions they report. */
export interface Binaries {
  readonly kubeApiserver: string;
  readonly etcd: string;
  /** `--version` of kube-apiserver, e.g. `v1.36.3`. */
  readonly kubeApiserverVersion: string;
  /** `--version` of etcd, with a `v` prefix, e.g. `v3.6.16`. */
  readonly etcdVersion: string;
}

/**
 * Where to find the binaries. Defaults: `$KUBE_APISERVER_BIN` / `$ETCD_BIN` when set (the names
 * `e2e/tools/smoke-apiserver.sh` reads), else the stable symlinks in `e2e/.bin/`.
 */
export interface EnsureBinariesOptions {
  readonly kubeApiserver?: string;
  readonly etcd?: string;
}

/**
 * Returns the kube-apiserver and etcd binaries and their versions. When a default symlink in
 * `e2e/.bin/` is missing it first runs `e2e/tools/build-binaries.sh` (stdio inherited so its
 * progress shows; a first build takes minutes, later ones copy from `~/.cache/rrfleet/bin`).
 * Explicit paths (options or environment) are never built. Throws when a binary is still missing, does not run, or prints
 * a version it cannot parse.
 */
export async function ensureBinaries(options: EnsureBinariesOptions = {}): Promise<Binaries> {
  const binDir = join(E2E_DIR, ".bin");
  const explicitKubeApiserver =
    options.kubeApiserver ?? nonEmpty(process.env["KUBE_APISERVER_BIN"]);
  const explicitEtcd = options.etcd ?? nonEmpty(process.env["ETCD_BIN"]);
  const kubeApiserver = explicitKubeApiserver ?? join(binDir, "kube-apiserver");
  const etcd = explicitEtcd ?? join(binDir, "etcd");
  const defaultsMissing =
    (explicitKubeApiserver === undefined && !(await isExecutable(kubeApiserver))) ||
    (explicitEtcd === undefined && !(await isExecutable(etcd)));
  if (defaultsMissing) await runBuildScript(join(E2E_DIR, "tools", "build-binaries.sh"));

  for (const binary of [kubeApiserver, etcd]) {
    if (!(await isExecutable(binary))) throw new Error(`no executable binary at ${binary}`);
  }
  const [kubeApiserverVersion, etcdVersion] = await Promise.all([
    readVersion(kubeApiserver, /^Kubernetes (v\d+\.\d+\.\d+\S*)$/m, ""),
    readVersion(etcd, /^etcd Version: (\d+\.\d+\.\d+\S*)$/m, "v"),
  ]);
  return { kubeApiserver, etcd, kubeApiserverVersion, etcdVersion };
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch (err: unknown) {
    if (isErrnoException(err) && (err.code === "ENOENT" || err.code === "EACCES")) return false;
    throw err;
  }
}

function runBuildScript(script: string): Promise<void> {
  console.log(`e2e: binaries missing, running ${script} (a first build takes several minutes)`);
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [script], { stdio: "inherit" });
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (code === 0) resolve();
      else
        reject(new Error(`${script} failed (exit code ${String(code)}, signal ${String(signal)})`));
    });
  });
}

async function readVersion(binary: string, pattern: RegExp, prefix: string): Promise<string> {
  const { stdout, stderr } = await execFileAsync(binary, ["--version"], { timeout: 30_000 });
  const output = `${stdout}\n${stderr}`;
  const version = pattern.exec(output)?.[1];
  if (version === undefined) {
    throw new Error(`cannot parse the version of ${binary} from: ${output.trim()}`);
  }
  return `${prefix}${version}`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
