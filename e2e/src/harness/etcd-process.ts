import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { findFreePorts } from "./free-port.js";
import {
  describeExit,
  measureLogSize,
  readLogTail,
  startManagedProcess,
  type ManagedProcess,
} from "./managed-process.js";
import { waitFor } from "./wait-for.js";

/** A running etcd member serving plain HTTP on loopback. */
export interface EtcdProcess {
  /** Client URL, e.g. `http://127.0.0.1:23790`. */
  readonly url: string;
  readonly logFile: string;
  readonly process: ManagedProcess;
  /** SIGTERM, then SIGKILL after 10 s; idempotent. Leaves the data directory in place. */
  stop(): Promise<void>;
}

/** Where and what to run. */
export interface StartEtcdOptions {
  readonly binary: string;
  /** Directory for the data dir and `etcd.log`; created if missing, never removed here. */
  readonly dir: string;
  /** Default 30,000 ms. */
  readonly healthTimeoutMs?: number;
}

const PORT_ATTEMPTS = 3;

/**
 * Starts a single-member etcd on two free loopback ports with `--unsafe-no-fsync` (test data
 * only) and waits until `GET /health` reports healthy. Retries on fresh ports when a port was
 * taken between choosing and binding it. Throws with the tail of `etcd.log` when it does not
 * become healthy.
 */
export async function startEtcd(options: StartEtcdOptions): Promise<EtcdProcess> {
  await mkdir(options.dir, { recursive: true });
  const logFile = join(options.dir, "etcd.log");
  for (let attempt = 1; ; attempt++) {
    const [clientPort, peerPort] = await findFreePorts(2);
    const url = `http://127.0.0.1:${String(clientPort)}`;
    const peerUrl = `http://127.0.0.1:${String(peerPort)}`;
    const logOffset = await measureLogSize(logFile);
    const child = await startManagedProcess({
      name: "etcd",
      command: options.binary,
      args: [
        "--name=default",
        `--data-dir=${join(options.dir, "data")}`,
        `--listen-client-urls=${url}`,
        `--advertise-client-urls=${url}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=default=${peerUrl}`,
        "--unsafe-no-fsync=true",
        "--log-level=warn",
      ],
      logFile,
    });
    try {
      await waitFor(() => probeHealth(url), {
        description: `etcd ${url}/health`,
        timeoutMs: options.healthTimeoutMs ?? 30_000,
        abortIf: () => describeExit(child),
      });
      return {
        url,
        logFile,
        process: child,
        stop: async () => {
          await child.stop();
        },
      };
    } catch (err: unknown) {
      await child.stop(2_000);
      const tail = await readLogTail(logFile, 40, logOffset);
      if (attempt < PORT_ATTEMPTS && tail.includes("address already in use")) continue;
      throw new Error(
        `etcd did not start: ${err instanceof Error ? err.message : String(err)}\n--- ${logFile} (tail) ---\n${tail}`,
        { cause: err },
      );
    }
  }
}

async function probeHealth(url: string): Promise<true | undefined> {
  const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
  const body = (await response.json()) as { health?: unknown };
  return response.ok && body.health === "true" ? true : undefined;
}
