import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Certificates } from "./certificates.js";
import { findFreePort } from "./free-port.js";
import {
  describeExit,
  measureLogSize,
  readLogTail,
  startManagedProcess,
  type ManagedProcess,
} from "./managed-process.js";
import { requestHttps } from "./request-https.js";
import { waitFor } from "./wait-for.js";

/** A running kube-apiserver (on loopback unless told otherwise), serving TLS signed by the test CA. */
export interface ApiServerProcess {
  /** e.g. `https://127.0.0.1:41234` (the bind address's host); stays the same across restarts. */
  readonly url: string;
  readonly port: number;
  readonly logFile: string;
  /** The current process (a new one after every restart). */
  process(): ManagedProcess;
  /** Stops the server and starts it again on the same port and etcd prefix; resolves when ready. */
  restart(): Promise<void>;
  /** SIGTERM, then SIGKILL after 15 s; idempotent. */
  stop(): Promise<void>;
}

/** What one kube-apiserver serves and where it keeps its data. */
export interface StartApiServerOptions {
  readonly binary: string;
  /** Directory for `apiserver.log` and the generated cert dir; created if missing. */
  readonly dir: string;
  readonly etcdUrl: string;
  /**
   * etcd key prefix, e.g. `/registry-east`: several API servers share one etcd without seeing
   * each other's objects when their prefixes differ (none may be a prefix of another).
   */
  readonly etcdPrefix: string;
  readonly certificates: Certificates;
  /**
   * IPv4 address to listen on, also the host of `url`; default `127.0.0.1`. The serving
   * certificate must name it (see `createCertificates`).
   */
  readonly bindAddress?: string;
  /** Static `--token-auth-file` (`token,user,uid,"group1,group2"` per line); read at startup only. */
  readonly tokenFile: string;
  /** A token of a `system:masters` user in `tokenFile`, used to probe `/readyz`. */
  readonly adminToken: string;
  /** Default 120,000 ms (a cold start on a busy 2-core machine takes 3-15 s). */
  readonly readyTimeoutMs?: number;
  /** Write a JSON audit log here with this policy file (both or neither). */
  readonly audit?: { readonly logFile: string; readonly policyFile: string };
}

const BIND_ATTEMPTS = 10;
const STOP_GRACE_MS = 15_000;

/**
 * Starts kube-apiserver on a free port of the bind address (loopback by default) with RBAC, the static token file, the test CA
 * (serving cert and client CA) and service-account keys, and waits until `/readyz` answers `ok`
 * to the admin token over verified TLS. Retries when the port was taken before the server bound
 * it (on a fresh port at first start, on the same port at restart). Throws with the tail of
 * `apiserver.log` when the server exits or is not ready in time.
 */
export async function startApiServer(options: StartApiServerOptions): Promise<ApiServerProcess> {
  await mkdir(join(options.dir, "cert-dir"), { recursive: true });
  const logFile = join(options.dir, "apiserver.log");
  const ca = await readFile(options.certificates.caCert, "utf8");

  let port = await findFreePort();
  let current = await launchUntilBound(options, logFile, ca, () => port, {
    onAddressInUse: async () => {
      port = await findFreePort();
    },
  });
  let stopped = false;

  return {
    get url() {
      return urlOf(options, port);
    },
    get port() {
      return port;
    },
    logFile,
    process: () => current,
    restart: async () => {
      if (stopped) throw new Error("kube-apiserver was stopped; it cannot be restarted");
      await current.stop(STOP_GRACE_MS);
      current = await launchUntilBound(options, logFile, ca, () => port, {
        // The port must stay the same (clients hold the URL): wait for whoever holds it.
        onAddressInUse: () => sleep(500),
      });
    },
    stop: async () => {
      stopped = true;
      await current.stop(STOP_GRACE_MS);
    },
  };
}

async function launchUntilBound(
  options: StartApiServerOptions,
  logFile: string,
  ca: string,
  port: () => number,
  hooks: { onAddressInUse: () => Promise<void> },
): Promise<ManagedProcess> {
  for (let attempt = 1; ; attempt++) {
    const logOffset = await measureLogSize(logFile);
    const child = await startManagedProcess({
      name: "kube-apiserver",
      command: options.binary,
      args: apiServerArgs(options, port()),
      logFile,
    });
    try {
      await waitFor(() => probeReady(urlOf(options, port()), ca, options.adminToken), {
        description: `kube-apiserver ${urlOf(options, port())}/readyz`,
        timeoutMs: options.readyTimeoutMs ?? 120_000,
        intervalMs: 200,
        abortIf: () => describeExit(child),
      });
      return child;
    } catch (err: unknown) {
      await child.stop(2_000);
      const tail = await readLogTail(logFile, 40, logOffset);
      if (attempt < BIND_ATTEMPTS && tail.includes("address already in use")) {
        await hooks.onAddressInUse();
        continue;
      }
      throw new Error(
        `kube-apiserver did not become ready: ${err instanceof Error ? err.message : String(err)}\n--- ${logFile} (tail) ---\n${tail}`,
        { cause: err },
      );
    }
  }
}

function apiServerArgs(options: StartApiServerOptions, port: number): string[] {
  const pki = options.certificates;
  return [
    `--etcd-servers=${options.etcdUrl}`,
    `--etcd-prefix=${options.etcdPrefix}`,
    `--bind-address=${options.bindAddress ?? "127.0.0.1"}`,
    `--advertise-address=${options.bindAddress ?? "127.0.0.1"}`,
    `--secure-port=${String(port)}`,
    `--cert-dir=${join(options.dir, "cert-dir")}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.caCert}`,
    "--service-cluster-ip-range=10.0.0.0/24",
    "--allow-privileged=true",
    "--disable-admission-plugins=ServiceAccount",
    "--authorization-mode=RBAC",
    `--token-auth-file=${options.tokenFile}`,
    `--service-account-issuer=${urlOf(options, port)}/`,
    `--service-account-key-file=${pki.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    // 1.37 refuses a loopback --advertise-address with the default "lease" reconciler, and the
    // `kubernetes` Service endpoints it maintains are of no use without a pod network.
    "--endpoint-reconciler-type=none",
    "--profiling=false",
    ...(options.audit === undefined
      ? []
      : [
          `--audit-policy-file=${options.audit.policyFile}`,
          `--audit-log-path=${options.audit.logFile}`,
          "--audit-log-format=json",
          "--audit-log-mode=blocking",
        ]),
  ];
}

async function probeReady(url: string, ca: string, token: string): Promise<true | undefined> {
  const response = await requestHttps(`${url}/readyz`, { ca, bearerToken: token });
  return response.status === 200 && response.body.trim() === "ok" ? true : undefined;
}

function urlOf(options: StartApiServerOptions, port: number): string {
  return `https://${options.bindAddress ?? "127.0.0.1"}:${String(port)}`;
}
